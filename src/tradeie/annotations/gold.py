"""Gold annotations: loading against the corpus, validation and inter-annotator agreement."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from tradeie.corpus import document_tokens, load_corpus
from tradeie.document import Document, text_sha256
from tradeie.errors import TradeieError
from tradeie.labelstudio.format import read_export
from tradeie.schema import ENTITY_LABELS, RELATION_BY_NAME, RELATION_LABELS, allowed_relation
from tradeie.text.tokens import bio_tags

DEFAULT_GOLD = "annotations/gold"
DEFAULT_CORPUS = "corpus/documents.jsonl"


@dataclass
class ValidationReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: doc id -> {label or relation label -> count}
    counts: dict[str, Counter] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def attach_corpus(docs: list[Document], corpus: list[Document], where: str) -> list[Document]:
    """Give annotated documents their corpus metadata; stale or unknown texts are errors."""
    by_id = {d.id: d for d in corpus}
    out = []
    for doc in docs:
        source = by_id.get(doc.id)
        if source is None:
            raise TradeieError(
                f"{where}: document {doc.id!r} is not in the corpus",
                hint="add its .txt to seeds/ and run `tradeie corpus build`, or fix data.doc_id",
            )
        if doc.text != source.text:
            first = next(
                (i for i, (a, b) in enumerate(zip(doc.text, source.text)) if a != b),
                min(len(doc.text), len(source.text)),
            )
            raise TradeieError(
                f"{where}: document {doc.id!r} was annotated on a different text than the corpus "
                f"(sha256 {text_sha256(doc.text)[:12]} vs {text_sha256(source.text)[:12]}; first difference "
                f"at offset {first}: {doc.text[first : first + 20]!r} vs {source.text[first : first + 20]!r})",
                hint="the annotations are stale: re-annotate or rebuild the corpus from the same seeds; "
                "spans are never shifted automatically",
            )
        out.append(replace(doc, meta={**source.meta, **doc.meta}))
    return out


def load_gold(gold_dir: str | Path = DEFAULT_GOLD, corpus: str | Path = DEFAULT_CORPUS) -> list[Document]:
    """Gold documents (Label Studio JSON in ``gold_dir``) with corpus metadata, in corpus order."""
    docs = read_export(gold_dir).documents
    corpus_docs = load_corpus(corpus)
    attached = {d.id: d for d in attach_corpus(docs, corpus_docs, str(gold_dir))}
    return [attached[d.id] for d in corpus_docs if d.id in attached]


def validate(docs: list[Document], corpus: list[Document] | None = None) -> ValidationReport:
    """Check spans, labels, relations and (with ``corpus``) text hashes; count labels per document."""
    report = ValidationReport()
    if corpus is not None:
        by_id = {d.id: d for d in corpus}
        for doc in docs:
            if doc.id not in by_id:
                report.errors.append(
                    f"document {doc.id}: not in the corpus (fix: rebuild the corpus or fix data.doc_id)"
                )
            elif doc.text != by_id[doc.id].text:
                report.errors.append(
                    f"document {doc.id}: annotation text hash {text_sha256(doc.text)[:12]} does not "
                    f"match the corpus ({text_sha256(by_id[doc.id].text)[:12]}): stale annotations "
                    "(fix: re-annotate; spans are never shifted silently)"
                )
    for doc in docs:
        _check_document(doc, report)
    _check_consistency(docs, report)
    return report


def _check_document(doc: Document, report: ValidationReport) -> None:
    counts: Counter = Counter()
    ids: set[str] = set()
    previous = None
    for ent in sorted(doc.entities, key=lambda e: (e.start, e.end)):
        where = f"document {doc.id}, entity {ent.id} [{ent.start}:{ent.end}] {doc.text[ent.start : ent.end]!r}"
        counts[ent.label] += 1
        if ent.id in ids:
            report.errors.append(f"{where}: duplicate entity id (fix: give each region its own id)")
        ids.add(ent.id)
        if ent.label not in ENTITY_LABELS:
            report.errors.append(f"{where}: unknown label {ent.label!r} (fix: use one of {', '.join(ENTITY_LABELS)})")
        if not 0 <= ent.start < ent.end <= len(doc.text):
            report.errors.append(f"{where}: offsets outside the text (length {len(doc.text)})")
            continue
        span = doc.text[ent.start : ent.end]
        if ent.text and ent.text != span:
            report.errors.append(f"{where}: region text {ent.text!r} does not match the document text")
        if span != span.strip():
            report.errors.append(f"{where}: span starts or ends with whitespace (fix: trim the span)")
        if previous is not None and ent.start < previous.end:
            report.errors.append(
                f"{where}: overlaps entity {previous.id} [{previous.start}:{previous.end}] "
                f"{doc.text[previous.start : previous.end]!r} (fix: spans must not overlap)"
            )
        previous = ent if previous is None or ent.end > previous.end else previous
    index = doc.entity_index()
    seen_relations: set = set()
    for rel in doc.relations:
        where = f"document {doc.id}, relation {rel.head} -{rel.label}-> {rel.tail}"
        counts[rel.label] += 1
        if rel.label not in RELATION_LABELS:
            report.errors.append(
                f"{where}: unknown relation {rel.label!r} (fix: use one of {', '.join(RELATION_LABELS)})"
            )
        missing = [x for x in (rel.head, rel.tail) if x not in index]
        if missing:
            report.errors.append(f"{where}: entity id(s) {missing} do not exist (fix: re-draw the relation)")
            continue
        head, tail = index[rel.head], index[rel.tail]
        if rel.label in RELATION_BY_NAME and not allowed_relation(rel.label, head.label, tail.label):
            want = RELATION_BY_NAME[rel.label]
            report.errors.append(
                f"{where}: {head.label} -> {tail.label} is not allowed; {rel.label} links "
                f"{want.head} -> {want.tail} ({head.text!r} -> {tail.text!r})"
            )
        key = (head.key, tail.key, rel.label)
        if key in seen_relations:
            report.errors.append(f"{where}: duplicate relation ({head.text!r} -> {tail.text!r})")
        seen_relations.add(key)
    report.counts[doc.id] = counts


def _check_consistency(docs: list[Document], report: ValidationReport) -> None:
    """Warn where a string annotated somewhere is left unannotated elsewhere."""
    annotated: dict[str, str] = {}
    for doc in docs:
        for ent in doc.entities:
            annotated.setdefault(doc.text[ent.start : ent.end], ent.label)
    for doc in docs:
        covered = [(e.start, e.end) for e in doc.entities]
        for surface, label in sorted(annotated.items()):
            for match in re.finditer(rf"(?<!\w){re.escape(surface)}(?!\w)", doc.text):
                s, e = match.span()
                if not any(a < e and s < b for a, b in covered):
                    report.warnings.append(
                        f"document {doc.id} [{s}:{e}]: {surface!r} is annotated {label} elsewhere but not here"
                    )


def _span_prf(a: set, b: set) -> dict[str, float]:
    both = len(a & b)
    p = both / len(b) if b else 0.0
    r = both / len(a) if a else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "a": len(a), "b": len(b), "both": both}


def _overlap_matches(a: list, b: list) -> int:
    """Entities of ``a`` that overlap an entity of ``b`` with the same label (greedy, one-to-one)."""
    used: set[int] = set()
    matched = 0
    for x in a:
        for j, y in enumerate(b):
            if j not in used and x[2] == y[2] and x[0] < y[1] and y[0] < x[1]:
                used.add(j)
                matched += 1
                break
    return matched


def agreement(a_docs: list[Document], b_docs: list[Document]) -> dict:
    """Agreement of annotator B with annotator A (A as reference): span F1, kappa, relations."""
    from sklearn.metrics import cohen_kappa_score

    b_by_id = {d.id: d for d in b_docs}
    shared = [d for d in a_docs if d.id in b_by_id]
    if not shared:
        raise TradeieError(
            "agreement: the two annotation sets share no document id", hint="compare exports of the same documents"
        )
    out: dict = {"documents": [d.id for d in shared], "spans": {}, "relations": {}}
    labels = list(ENTITY_LABELS)
    for label in [None, *labels]:
        a = {(d.id, *e.key) for d in shared for e in d.entities if label in (None, e.label)}
        b = {(d.id, *e.key) for d in shared for e in b_by_id[d.id].entities if label in (None, e.label)}
        strict = _span_prf(a, b)
        a_list = sorted((s, e, lab, doc) for doc, s, e, lab in a)
        b_list = sorted((s, e, lab, doc) for doc, s, e, lab in b)
        overlap_a = sum(
            _overlap_matches([x[:3] for x in a_list if x[3] == d.id], [y[:3] for y in b_list if y[3] == d.id])
            for d in shared
        )
        p = overlap_a / len(b) if b else 0.0
        r = overlap_a / len(a) if a else 0.0
        out["spans"][label or "all"] = {
            "strict": strict,
            "overlap": {
                "precision": round(p, 4),
                "recall": round(r, 4),
                "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            },
        }
    tags_a, tags_b = [], []
    for doc in shared:
        other = b_by_id[doc.id]
        for toks in document_tokens(doc, doc.entities, other.entities):
            tags_a += bio_tags(toks, doc.entities, doc.id)
            tags_b += bio_tags(toks, other.entities, other.id)
    out["token_kappa"] = round(float(cohen_kappa_score(tags_a, tags_b)), 4)
    out["tokens"] = len(tags_a)
    for label in [None, *RELATION_LABELS]:
        a = {(d.id, *k) for d in shared for k in d.relation_keys() if label in (None, k[2])}
        b = {(d.id, *k) for d in shared for k in b_by_id[d.id].relation_keys() if label in (None, k[2])}
        out["relations"][label or "all"] = _span_prf(a, b)
    return out


def disagreements(a_docs: list[Document], b_docs: list[Document]) -> list[str]:
    """Human-readable list of spans/relations found by only one annotator (for adjudication)."""
    lines = []
    b_by_id = {d.id: d for d in b_docs}
    for doc in a_docs:
        other = b_by_id.get(doc.id)
        if other is None:
            continue
        a = {e.key for e in doc.entities}
        b = {e.key for e in other.entities}
        for s, e, label in sorted(a - b):
            lines.append(f"{doc.id} [{s}:{e}] {doc.text[s:e]!r} {label}: only A")
        for s, e, label in sorted(b - a):
            lines.append(f"{doc.id} [{s}:{e}] {doc.text[s:e]!r} {label}: only B")
        ra, rb = doc.relation_keys(), other.relation_keys()
        for h, t, label in sorted(ra ^ rb):
            who = "only A" if (h, t, label) in ra else "only B"
            lines.append(
                f"{doc.id} {doc.text[h[0] : h[1]]!r}[{h[0]}] -{label}-> {doc.text[t[0] : t[1]]!r}[{t[0]}]: {who}"
            )
    return lines
