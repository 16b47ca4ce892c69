"""The one validator of annotated documents: every check, its level, where it is and the fix.

Each entry point runs the checks with its :class:`Rules`:

* ``tradeie annotations validate`` and ``tradeie ls pull``: :data:`GOLD`, the
  corpus checks (a known document, annotated on the corpus text) and the
  consistency warnings (:func:`validate_documents`);
* ``tradeie dataset build`` (:func:`tradeie.data.dataset.check_document`): :data:`DATASET`;
* ``tradeie evaluate``: :data:`GOLD` for the gold, :data:`PREDICTIONS` for
  predictions (also used for ``ls push --predictions``).

A finding is an ``error`` (the input cannot be used as it is) or a ``warning``
(worth a look; it fails nothing unless ``annotations validate --strict``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from tradeie.corpus import document_tokens, sentences_of
from tradeie.document import Document, Entity, text_sha256
from tradeie.errors import TradeieError
from tradeie.schema import ENTITY_LABELS, RELATION_BY_NAME, RELATION_LABELS, allowed_relation
from tradeie.text.tokens import SpanAlignmentError, bio_tags

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem of one document: its level, where it is, what is wrong and the fix."""

    level: str
    document: str
    problem: str
    #: the offset or field: ``entity ID [s:e] 'text'``, ``relation H -label-> T``, ``text [s:e] 'text'``;
    #: empty for the whole document
    location: str = ""
    fix: str | None = None
    #: the file and task the document came from (``gold/x.json: task 3 (x)``), when known
    source: str = ""

    @property
    def subject(self) -> str:
        """``document D, LOCATION`` (or ``document D`` for the whole document)."""
        return f"document {self.document}" + (f", {self.location}" if self.location else "")

    @property
    def message(self) -> str:
        """``document D, LOCATION: PROBLEM (fix: FIX)``, for messages that name the file themselves."""
        return f"{self.subject}: {self.problem}" + (f" (fix: {self.fix})" if self.fix else "")

    def line(self) -> str:
        """``LEVEL: FILE/TASK/DOCUMENT: OFFSET/FIELD: PROBLEM (fix: FIX)``, one line."""
        parts = (self.source or f"document {self.document}", self.location, self.problem)
        return f"{self.level}: " + ": ".join(p for p in parts if p) + (f" (fix: {self.fix})" if self.fix else "")

    def error(self, where: str = "", more: int = 0) -> TradeieError:
        """This finding as the one-line user error, after ``where`` (a path, ``file:line``)."""
        extra = f" (and {more} more)" if more else ""
        return TradeieError(f"{where + ': ' if where else ''}{self.subject}: {self.problem}{extra}", hint=self.fix)


@dataclass(frozen=True)
class Rules:
    """The checks run beyond those every document passes (offsets inside the text, entity
    text matching its offsets, known labels, unique entity ids, relations between existing entities)."""

    #: no overlapping spans, no edge whitespace, relation type signatures, no duplicate relations
    schema: bool = True
    #: every span inside one sentence (the dataset's NER rows are sentences)
    sentences: bool = True
    #: every span on token boundaries
    tokens: bool = True


#: Gold annotations: everything.
GOLD = Rules()
#: ``dataset build``: as gold; its NER rows tag the same tokens and raise on a misaligned span themselves.
DATASET = Rules(tokens=False)
#: Model output: structure only (a system may predict overlapping spans; scoring handles them).
PREDICTIONS = Rules(schema=False, sentences=False, tokens=False)


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == ERROR]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == WARNING]


def raise_first_error(findings: Iterable[Finding], where: str = "") -> None:
    """Raise the first error finding as a :class:`TradeieError` (naming how many more there are)."""
    found = errors(findings)
    if found:
        raise found[0].error(where, more=len(found) - 1)


# --------------------------------------------------------------------------- one document


def check_document(doc: Document, rules: Rules = GOLD) -> list[Finding]:
    """Every problem of one document under ``rules`` (see :class:`Rules`)."""
    found = _entity_findings(doc, rules) + _relation_findings(doc, rules) + _task_hash_findings(doc)
    if rules.tokens and not errors(found):
        found += _token_findings(doc)
    return found


def _entity_where(doc: Document, ent: Entity) -> str:
    return f"entity {ent.id} [{ent.start}:{ent.end}] {doc.text[ent.start : ent.end]!r}"


def _entity_findings(doc: Document, rules: Rules) -> list[Finding]:
    out: list[Finding] = []

    def error(ent: Entity, problem: str, fix: str | None) -> None:
        out.append(Finding(ERROR, doc.id, problem, _entity_where(doc, ent), fix))

    ids: set[str] = set()
    sentences = sentences_of(doc) if rules.sentences else []
    previous: Entity | None = None
    for ent in sorted(doc.entities, key=lambda e: (e.start, e.end)):
        if ent.id in ids:
            error(ent, f"entity id {ent.id!r} used twice", "give each entity its own id")
        ids.add(ent.id)
        if ent.label not in ENTITY_LABELS:
            error(
                ent,
                f"unknown entity label {ent.label!r}",
                f"use one of {', '.join(ENTITY_LABELS)}; a span with an unknown label cannot be tagged or scored",
            )
        if not 0 <= ent.start < ent.end <= len(doc.text):
            error(
                ent,
                f"offsets outside the text (length {len(doc.text)})",
                "offsets are character (code point) offsets into the document text",
            )
            continue
        actual = doc.text[ent.start : ent.end]
        if ent.text and ent.text != actual:
            error(
                ent,
                f"says {ent.text!r} but the text there is {actual!r}",
                "the annotation is stale or its offsets are wrong; re-export it against the current corpus",
            )
        if not rules.schema:
            continue
        if actual != actual.strip():
            error(ent, "span starts or ends with whitespace", "trim the span")
        if previous is not None and ent.start < previous.end:
            error(
                ent,
                f"overlaps entity {previous.id} [{previous.start}:{previous.end}] "
                f"{doc.text[previous.start : previous.end]!r}",
                "spans must not overlap",
            )
        previous = ent if previous is None or ent.end > previous.end else previous
        if rules.sentences and not any(s <= ent.start and ent.end <= e for s, e in sentences):
            cut = next(((s, e) for s, e in sentences if s < ent.end and ent.start < e), None)
            where = (
                f"crosses the sentence boundary at offset {cut[1] if cut[0] <= ent.start else cut[0]}"
                if cut
                else "lies outside every sentence"
            )
            error(ent, where, "entities must lie within one sentence; fix the span")
    return out


def _relation_findings(doc: Document, rules: Rules) -> list[Finding]:
    out: list[Finding] = []
    index = doc.entity_index()
    seen: set = set()
    for rel in doc.relations:
        where = f"relation {rel.head} -{rel.label}-> {rel.tail}"
        if rel.label not in RELATION_LABELS:
            problem = f"unknown relation label {rel.label!r}"
            out.append(Finding(ERROR, doc.id, problem, where, f"use one of {', '.join(RELATION_LABELS)}"))
        missing = list(dict.fromkeys(x for x in (rel.head, rel.tail) if x not in index))
        if missing:
            problem = f"refers to unknown entity id {', '.join(repr(x) for x in missing)}"
            out.append(Finding(ERROR, doc.id, problem, where, "re-draw the relation between existing entities"))
            continue
        if not rules.schema:
            continue
        head, tail = index[rel.head], index[rel.tail]
        surfaces = f"{doc.text[head.start : head.end]!r} -> {doc.text[tail.start : tail.end]!r}"
        if rel.label in RELATION_BY_NAME and not allowed_relation(rel.label, head.label, tail.label):
            want = RELATION_BY_NAME[rel.label]
            problem = (
                f"{head.label} -> {tail.label} is not allowed by the schema; {rel.label} links "
                f"{want.head} -> {want.tail} ({surfaces})"
            )
            out.append(Finding(ERROR, doc.id, problem, where, "swap head and tail, or choose another relation"))
        key = (head.key, tail.key, rel.label)
        if key in seen:
            out.append(Finding(ERROR, doc.id, f"duplicate relation ({surfaces})", where, "remove one of them"))
        seen.add(key)
    return out


def _task_hash_findings(doc: Document) -> list[Finding]:
    """A Label Studio task whose ``data.text_sha256`` (set at push) no longer matches its text."""
    pushed = doc.meta.get("text_sha256_at_annotation")
    if not pushed or pushed == text_sha256(doc.text):
        return []
    return [
        Finding(
            ERROR,
            doc.id,
            f"task data text_sha256 {pushed[:12]} does not match the task text ({text_sha256(doc.text)[:12]})",
            fix="re-import the task with `tradeie ls push`",
        )
    ]


def _token_findings(doc: Document) -> list[Finding]:
    try:
        for tokens in document_tokens(doc):
            bio_tags(tokens, doc.entities, doc.id)
    except SpanAlignmentError as exc:
        return [Finding(ERROR, doc.id, str(exc).removeprefix(f"document {doc.id}: "))]
    return []


# --------------------------------------------------------------------------- against the corpus


def first_difference(a: str, b: str) -> int:
    """The first offset where two texts differ (the shorter length if one is a prefix of the other)."""
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def corpus_findings(doc: Document, corpus_doc: Document | None) -> list[Finding]:
    """``doc`` must be a corpus document annotated on exactly the corpus text (never shifted)."""
    if corpus_doc is None:
        return [
            Finding(
                ERROR,
                doc.id,
                "not in the corpus",
                fix="add its .txt to seeds/ and run `tradeie corpus build`, or fix data.doc_id",
            )
        ]
    if doc.text == corpus_doc.text:
        return []
    k = first_difference(doc.text, corpus_doc.text)
    return [
        Finding(
            ERROR,
            doc.id,
            f"annotated on a different text than the corpus (annotation text hash {text_sha256(doc.text)[:12]} "
            f"vs corpus {text_sha256(corpus_doc.text)[:12]}; first difference at offset {k}: "
            f"{doc.text[k : k + 20]!r} vs {corpus_doc.text[k : k + 20]!r}): stale annotations",
            fix="re-annotate it, or rebuild the corpus from the same seeds; spans are never shifted silently",
        )
    ]


# --------------------------------------------------------------------------- many documents


def validate_documents(
    docs: Sequence[Document],
    corpus: Sequence[Document] | None = None,
    *,
    rules: Rules = GOLD,
    consistency: bool = True,
    sources: dict[str, str] | None = None,
) -> list[Finding]:
    """Every finding for ``docs``, document by document, then the consistency warnings.

    With ``corpus`` each document must be in it with the same text, and is
    checked with the corpus's sentences. ``sources`` (doc id -> file and task)
    names where each document came from in :meth:`Finding.line`.
    """
    by_id = None if corpus is None else {d.id: d for d in corpus}
    found: list[Finding] = []
    for doc in docs:
        if by_id is not None:
            corpus_doc = by_id.get(doc.id)
            found += corpus_findings(doc, corpus_doc)
            if corpus_doc is not None and corpus_doc.text == doc.text:
                doc = replace(doc, meta={**corpus_doc.meta, **doc.meta})
        found += check_document(doc, rules)
    if consistency:
        found += consistency_findings(docs)
    if sources:
        found = [replace(f, source=sources.get(f.document, "")) for f in found]
    return found


def consistency_findings(docs: Sequence[Document]) -> list[Finding]:
    """Warnings where a string annotated somewhere is left unannotated elsewhere."""
    annotated: dict[str, str] = {}
    for doc in docs:
        for ent in doc.entities:
            annotated.setdefault(doc.text[ent.start : ent.end], ent.label)
    out = []
    for doc in docs:
        covered = [(e.start, e.end) for e in doc.entities]
        for surface, label in sorted(annotated.items()):
            for match in re.finditer(rf"(?<!\w){re.escape(surface)}(?!\w)", doc.text):
                s, e = match.span()
                if not any(a < e and s < b for a, b in covered):
                    out.append(
                        Finding(
                            WARNING,
                            doc.id,
                            f"annotated {label} elsewhere but not here",
                            f"text [{s}:{e}] {surface!r}",
                            "annotate it here too if it is a mention",
                        )
                    )
    return out
