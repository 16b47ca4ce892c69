"""Gold annotations: loading against the corpus, validation (:mod:`tradeie.annotations.validate`)
and inter-annotator agreement."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from tradeie.annotations.validate import GOLD, Finding, corpus_findings, raise_first_error, validate_documents
from tradeie.annotations.validate import errors as error_findings
from tradeie.annotations.validate import warnings as warning_findings
from tradeie.corpus import document_tokens, load_corpus
from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.labelstudio.format import read_export
from tradeie.schema import ENTITY_LABELS, RELATION_LABELS
from tradeie.text.tokens import bio_tags

DEFAULT_GOLD = "annotations/gold"
DEFAULT_CORPUS = "corpus/documents.jsonl"


@dataclass
class ValidationReport:
    """The findings of :func:`validate` as message strings, and label counts per document."""

    findings: list[Finding] = field(default_factory=list)
    #: doc id -> {label or relation label -> count}
    counts: dict[str, Counter] = field(default_factory=dict)

    @property
    def errors(self) -> list[str]:
        return [f.message for f in error_findings(self.findings)]

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in warning_findings(self.findings)]

    @property
    def ok(self) -> bool:
        return not self.errors


def attach_corpus(docs: list[Document], corpus: list[Document], where: str) -> list[Document]:
    """Give annotated documents their corpus metadata; stale or unknown texts are errors."""
    by_id = {d.id: d for d in corpus}
    out = []
    for doc in docs:
        source = by_id.get(doc.id)
        raise_first_error(corpus_findings(doc, source), where)
        out.append(replace(doc, meta={**source.meta, **doc.meta}))
    return out


def load_gold(gold_dir: str | Path = DEFAULT_GOLD, corpus: str | Path = DEFAULT_CORPUS) -> list[Document]:
    """Gold documents (Label Studio JSON in ``gold_dir``) with corpus metadata, in corpus order."""
    docs = read_export(gold_dir).documents
    corpus_docs = load_corpus(corpus)
    attached = {d.id: d for d in attach_corpus(docs, corpus_docs, str(gold_dir))}
    return [attached[d.id] for d in corpus_docs if d.id in attached]


def validate(
    docs: list[Document], corpus: list[Document] | None = None, *, sources: dict[str, str] | None = None
) -> ValidationReport:
    """Gold checks (:mod:`tradeie.annotations.validate`, with ``corpus``: known and not stale) and label counts."""
    report = ValidationReport(findings=validate_documents(docs, corpus, rules=GOLD, sources=sources))
    for doc in docs:
        report.counts[doc.id] = Counter([e.label for e in doc.entities] + [r.label for r in doc.relations])
    return report


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
