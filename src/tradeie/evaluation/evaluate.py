"""Scoring any system's output against gold: loaders, pairing, error analysis.

``evaluate_documents(gold, pred)`` returns the metrics dict of
:func:`tradeie.evaluation.scores.compute_metrics` plus ``errors``: every false positive
and false negative with its sentence and error kind.

Entity error kinds (gold and prediction matched one to one):
``type`` (same span, other label), ``boundary`` (overlapping spans, same label),
``boundary_type`` (overlapping, other span and label), ``spurious`` (prediction
overlapping no gold span), ``missed`` (gold span overlapping no prediction).
Relation error kinds: ``wrong_label`` (same argument spans, other label),
``argument_boundary`` (same label, overlapping but not identical arguments),
``spurious``, ``missed``, and ``missed_entity`` (end to end: a gold relation
whose head or tail entity was not predicted exactly).
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tradeie.corpus import sentences_of
from tradeie.document import Document, Entity
from tradeie.errors import TradeieError
from tradeie.evaluation.scores import (
    compute_metrics,
    overlaps,
    relaxed_relation_matches,
    relation_tuples,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- loading


def _check_document(doc: Document, where: str) -> Document:
    """Check a loaded document (the ``PREDICTIONS`` rules of :mod:`tradeie.annotations.validate`:
    offsets, entity text, labels, unique ids, relation ends); fill missing entity ids and text."""
    from tradeie.annotations.validate import PREDICTIONS, check_document, raise_first_error

    doc = doc.with_annotations(e if e.id else replace(e, id=f"T{k + 1}") for k, e in enumerate(doc.entities))
    raise_first_error(check_document(doc, PREDICTIONS), where)
    return doc.with_annotations(
        Entity(e.start, e.end, e.label, e.id, doc.text[e.start : e.end], e.score) for e in doc.entities
    )


def read_documents_jsonl(path: str | Path) -> list[Document]:
    """Checked documents from Documents JSONL (:mod:`tradeie.io.jsonl`); a row without an id is ``line-N``."""
    from tradeie.io.jsonl import iter_documents

    return [_check_document(doc, f"{path}:{lineno}") for lineno, doc in iter_documents(path, id_prefix="line")]


def load_gold_file(path: str | Path) -> list[Document]:
    """Gold documents from JSONL or a Label Studio JSON export (file or folder), validated.

    Gold that breaks the schema (overlapping spans, edge whitespace, a relation
    against its type signature, a span across sentences) is an error: scoring it
    would silently alter it.
    """
    from tradeie.annotations.validate import GOLD, errors, validate_documents

    docs = _read_gold(path)
    found = errors(validate_documents(docs, rules=GOLD, consistency=False))
    if found:
        first, more = found[0], f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise TradeieError(
            f"{path}: invalid gold: {first.subject}: {first.problem}{more}",
            hint=(f"{first.fix}; " if first.fix else "") + "`tradeie annotations validate` lists every problem",
        )
    return docs


def _read_gold(path: str | Path) -> list[Document]:
    path = Path(path)
    if not path.exists():
        raise TradeieError(f"{path}: file not found", hint="pass --gold gold.jsonl or a Label Studio export")
    if path.is_dir() or path.suffix.lower() == ".json":
        from tradeie.labelstudio.format import read_export

        export = read_export(path)
        for warning in export.warnings:
            log.warning("%s", warning)
        return [_check_document(d, str(path)) for d in export.documents]
    return read_documents_jsonl(path)


def load_predictions(path: str | Path) -> list[Document]:
    """Predicted documents from ``tradeie predict`` JSONL, or the latest prediction per task of a
    Label Studio JSON file written with ``--format labelstudio``."""
    path = Path(path)
    if not path.exists():
        raise TradeieError(f"{path}: file not found", hint="pass the JSONL written by `tradeie predict`")
    if path.suffix.lower() == ".json":
        from tradeie.labelstudio.format import read_export

        export = read_export(path)
        if not export.predictions:
            raise TradeieError(
                f"{path}: no task has predictions", hint="export with `tradeie predict --format labelstudio`"
            )
        return [_check_document(preds[-1], str(path)) for preds in export.predictions.values()]
    return read_documents_jsonl(path)


def pair_documents(gold: list[Document], pred: list[Document], where: str = "predictions") -> list[Document]:
    """Predictions reordered to match ``gold`` (by id, else by identical text).

    A gold document without a prediction, a prediction for a document not in
    gold, or a prediction made on another text, is an error naming the documents.
    """
    by_id = {d.id: d for d in pred}
    by_text = {d.text: d for d in pred}
    out, missing, matched = [], [], set()
    for g in gold:
        p = by_id.get(g.id) or by_text.get(g.text)
        if p is None:
            missing.append(g.id)
            continue
        matched.add(p.id)
        if p.text != g.text:
            first = next((i for i, (a, b) in enumerate(zip(g.text, p.text)) if a != b), min(len(g.text), len(p.text)))
            raise TradeieError(
                f"{where}: document {g.id}: predicted text differs from the gold text at offset {first} "
                f"({g.text[first : first + 20]!r} vs {p.text[first : first + 20]!r})",
                hint="predict on exactly the gold texts (offsets are only comparable on the same text)",
            )
        out.append(p if p.id == g.id else Document(g.id, p.text, p.entities, p.relations, p.meta))
    if missing:
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        raise TradeieError(
            f"{where}: no prediction for {len(missing)} gold document(s): {', '.join(missing[:5])}{more}",
            hint="predict on every gold document (match by id or identical text)",
        )
    extra = sorted({d.id for d in pred} - matched)
    if extra:
        more = f" (and {len(extra) - 5} more)" if len(extra) > 5 else ""
        raise TradeieError(
            f"{where}: {len(extra)} prediction(s) for document(s) not in the gold: {', '.join(extra[:5])}{more}",
            hint="evaluate against gold that holds every predicted document, or predict only on the gold documents",
        )
    return out


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class SpanMatch:
    """A gold and/or predicted entity and how they relate (``correct`` or an error kind)."""

    kind: str
    gold: Entity | None
    pred: Entity | None


def match_entities(gold: list[Entity] | tuple, pred: list[Entity] | tuple) -> list[SpanMatch]:
    """One-to-one alignment of gold and predicted entities with an error kind for every mismatch.

    Order of preference: exact span+label, same span, overlapping with the same label,
    overlapping with another label (largest overlap first); the rest are spurious/missed.
    """
    gold, pred = sorted(set(gold), key=lambda e: e.key), sorted(set(pred), key=lambda e: e.key)
    used_g: set[int] = set()
    used_p: set[int] = set()
    out: list[SpanMatch] = []

    def take(kind: str, gi: int, pi: int) -> None:
        used_g.add(gi)
        used_p.add(pi)
        out.append(SpanMatch(kind, gold[gi], pred[pi]))

    for kind, same in (
        ("correct", lambda g, p: g.key == p.key),
        ("type", lambda g, p: (g.start, g.end) == (p.start, p.end)),
    ):
        for gi, g in enumerate(gold):
            for pi, p in enumerate(pred):
                if gi not in used_g and pi not in used_p and same(g, p):
                    take(kind, gi, pi)
    for kind, same_label in (("boundary", True), ("boundary_type", False)):
        pairs = sorted(
            (-(min(g.end, p.end) - max(g.start, p.start)), gi, pi)
            for gi, g in enumerate(gold)
            if gi not in used_g
            for pi, p in enumerate(pred)
            if pi not in used_p and overlaps(g, p) and (g.label == p.label) == same_label
        )
        for _, gi, pi in pairs:
            if gi not in used_g and pi not in used_p:
                take(kind, gi, pi)
    out += [SpanMatch("spurious", None, p) for pi, p in enumerate(pred) if pi not in used_p]
    out += [SpanMatch("missed", g, None) for gi, g in enumerate(gold) if gi not in used_g]
    return sorted(out, key=lambda m: ((m.gold or m.pred).start, (m.gold or m.pred).end))


@dataclass(frozen=True)
class RelationMatch:
    """A gold and/or predicted relation ``(head, tail, label)`` and how they relate."""

    kind: str
    gold: tuple[Entity, Entity, str] | None
    pred: tuple[Entity, Entity, str] | None


def match_relations(gold_doc: Document, pred_doc: Document, end_to_end: bool = True) -> list[RelationMatch]:
    """One-to-one alignment of relations: correct, wrong_label, argument_boundary, spurious, missed(_entity)."""
    g_rels, p_rels = relation_tuples(gold_doc), relation_tuples(pred_doc)
    used_g: set[int] = set()
    used_p: set[int] = set()
    out: list[RelationMatch] = []
    for kind, same in (
        ("correct", lambda g, p: (g[0].key, g[1].key, g[2]) == (p[0].key, p[1].key, p[2])),
        ("wrong_label", lambda g, p: (g[0].key, g[1].key) == (p[0].key, p[1].key)),
    ):
        for gi, g in enumerate(g_rels):
            for pi, p in enumerate(p_rels):
                if gi not in used_g and pi not in used_p and same(g, p):
                    used_g.add(gi)
                    used_p.add(pi)
                    out.append(RelationMatch(kind, g, p))
    rest_g = [gi for gi in range(len(g_rels)) if gi not in used_g]
    rest_p = [pi for pi in range(len(p_rels)) if pi not in used_p]
    for gi, pi in relaxed_relation_matches([g_rels[i] for i in rest_g], [p_rels[i] for i in rest_p]):
        used_g.add(rest_g[gi])
        used_p.add(rest_p[pi])
        out.append(RelationMatch("argument_boundary", g_rels[rest_g[gi]], p_rels[rest_p[pi]]))
    pred_keys = {e.key for e in pred_doc.entities}
    out += [RelationMatch("spurious", None, p) for pi, p in enumerate(p_rels) if pi not in used_p]
    for gi, g in enumerate(g_rels):
        if gi not in used_g:
            lost = end_to_end and (g[0].key not in pred_keys or g[1].key not in pred_keys)
            out.append(RelationMatch("missed_entity" if lost else "missed", g, None))
    return out


# --------------------------------------------------------------------------- error rows


def _context(doc: Document, starts: list[tuple[int, int]], lo: int, hi: int) -> tuple[int, int]:
    """Offsets of the sentence(s) covering ``[lo, hi)``."""
    if not starts:
        return 0, len(doc.text)
    first = max(bisect_right([s for s, _ in starts], lo) - 1, 0)
    last = max(bisect_right([s for s, _ in starts], max(hi - 1, lo)) - 1, first)
    return starts[first][0], max(starts[last][1], hi)


def _ent(e: Entity | None) -> dict | None:
    return None if e is None else {"start": e.start, "end": e.end, "label": e.label, "text": e.text}


def _rel(r: tuple[Entity, Entity, str] | None) -> dict | None:
    return None if r is None else {"head": _ent(r[0]), "tail": _ent(r[1]), "label": r[2]}


def _error_row(
    doc: Document, sentences: list[tuple[int, int]], task: str, setting: str, match: SpanMatch | RelationMatch
) -> dict[str, Any]:
    """One FP/FN row: the match's kind, both sides and the sentence(s) around them."""
    describe = _ent if task == "ner" else _rel
    if task == "ner":
        spans = [e for e in (match.gold, match.pred) if e is not None]
    else:
        spans = list((match.gold or match.pred)[:2])
    s, e = _context(doc, sentences, min(x.start for x in spans), max(x.end for x in spans))
    return {
        "doc_id": doc.id,
        "task": task,
        "setting": setting,
        "kind": match.kind,
        "fp": match.pred is not None,
        "fn": match.gold is not None,
        "gold": describe(match.gold),
        "pred": describe(match.pred),
        "context_start": s,
        "context_end": e,
        "context": doc.text[s:e],
    }


def error_rows(
    gold: list[Document], pred: list[Document], pred_gold_entities: list[Document] | None = None
) -> list[dict[str, Any]]:
    """Every entity and relation FP/FN as a row with its kind and sentence context."""
    rows: list[dict[str, Any]] = []
    for i, (g, p) in enumerate(zip(gold, pred)):
        sentences = sentences_of(g)
        rows += [
            _error_row(g, sentences, "ner", "end_to_end", m)
            for m in match_entities(g.entities, p.entities)
            if m.kind != "correct"
        ]
        settings = [("end_to_end", p)]
        if pred_gold_entities is not None:
            settings.append(("gold_entities", pred_gold_entities[i]))
        for setting, doc in settings:
            rows += [
                _error_row(g, sentences, "re", setting, m)
                for m in match_relations(g, doc, end_to_end=setting == "end_to_end")
                if m.kind != "correct"
            ]
    return rows


def error_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of error rows per task/setting and kind, and per entity label."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(f"{row['task']}.{row['setting']}", Counter())[row["kind"]] += 1
    by_label: dict[str, Counter] = {}
    for row in rows:
        if row["task"] == "ner":
            label = (row["gold"] or row["pred"])["label"]
            by_label.setdefault(label, Counter())[row["kind"]] += 1
    return {
        "by_kind": {k: dict(v) for k, v in counts.items()},
        "ner_by_gold_label": {k: dict(v) for k, v in sorted(by_label.items())},
    }


# --------------------------------------------------------------------------- entry points


def evaluate_documents(
    gold: list[Document], pred: list[Document], *, pred_gold_entities: list[Document] | None = None, **bootstrap: Any
) -> dict[str, Any]:
    """All metrics of ``pred`` against ``gold`` plus error analysis rows.

    ``pred`` is paired with ``gold`` by document id (or identical text);
    ``pred_gold_entities`` optionally holds relation predictions made from gold entities.
    ``bootstrap``: ``n_resamples``, ``seed`` and ``confidence`` of
    :func:`~tradeie.evaluation.scores.compute_metrics` (the same defaults).
    """
    if not gold:
        raise TradeieError("no gold documents to evaluate", hint="check the --gold file or --split")
    pred = pair_documents(gold, pred)
    if pred_gold_entities is not None:
        pred_gold_entities = pair_documents(gold, pred_gold_entities, "predictions with gold entities")
    metrics = compute_metrics(gold, pred, pred_gold_entities=pred_gold_entities, **bootstrap)
    rows = error_rows(gold, pred, pred_gold_entities)
    metrics["errors"] = {**error_summary(rows), "rows": rows}
    return metrics


def strip_relations(docs: list[Document]) -> list[Document]:
    """Documents with their entities kept and relations removed (input for gold-entity RE)."""
    return [d.with_annotations(d.entities, ()) for d in docs]
