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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradeie.corpus import sentences_of
from tradeie.document import Document, Entity
from tradeie.errors import TradeieError
from tradeie.io.atomic import read_jsonl
from tradeie.evaluation.scores import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    BOOTSTRAP_SEED,
    compute_metrics,
    overlaps,
    relaxed_relation_matches,
    relation_tuples,
)
from tradeie.schema import ENTITY_LABELS, RELATION_LABELS

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- loading


def _check_document(doc: Document, where: str) -> Document:
    """Validate offsets, labels and relation ids of a loaded document; fill missing entity ids/text."""
    entities = []
    for k, ent in enumerate(doc.entities):
        if not 0 <= ent.start < ent.end <= len(doc.text):
            raise TradeieError(
                f"{where}: document {doc.id}: entity [{ent.start}:{ent.end}] outside the text (length {len(doc.text)})",
                hint="offsets are character offsets into 'text'",
            )
        if ent.text and ent.text != doc.text[ent.start : ent.end]:
            raise TradeieError(
                f"{where}: document {doc.id}: entity [{ent.start}:{ent.end}] says {ent.text!r} but the text "
                f"there is {doc.text[ent.start : ent.end]!r}",
                hint="offsets must be code points into 'text'",
            )
        if ent.label not in ENTITY_LABELS:
            raise TradeieError(
                f"{where}: document {doc.id}: unknown entity label {ent.label!r} at [{ent.start}:{ent.end}]",
                hint=f"use one of {', '.join(ENTITY_LABELS)}",
            )
        entities.append(
            Entity(ent.start, ent.end, ent.label, ent.id or f"T{k + 1}", doc.text[ent.start : ent.end], ent.score)
        )
    ids = [e.id for e in entities]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise TradeieError(
            f"{where}: document {doc.id}: entity id {dup!r} used twice", hint="give each entity its own id"
        )
    for rel in doc.relations:
        if rel.head not in ids or rel.tail not in ids:
            raise TradeieError(
                f"{where}: document {doc.id}: relation {rel.head} -> {rel.tail} ({rel.label}) "
                "refers to an unknown entity id",
                hint="head and tail must be ids of 'entities'",
            )
        if rel.label not in RELATION_LABELS:
            raise TradeieError(
                f"{where}: document {doc.id}: unknown relation label {rel.label!r}",
                hint=f"use one of {', '.join(RELATION_LABELS)}",
            )
    return doc.with_annotations(entities)


def read_documents_jsonl(path: str | Path) -> list[Document]:
    """Documents from JSONL rows ``{"id", "text", "entities": [...], "relations": [...]}``."""
    docs = []
    for lineno, row in enumerate(read_jsonl(path), 1):
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise TradeieError(
                f"{path}:{lineno}: expected an object with a 'text' string",
                hint='rows look like {"id", "text", "entities", "relations"}',
            )
        row = {"id": row.get("id", f"line-{lineno}"), **row}
        try:
            doc = Document.from_dict(row)
        except (KeyError, TypeError, ValueError) as exc:
            raise TradeieError(
                f"{path}:{lineno}: malformed entity or relation ({exc})",
                hint="entities need start, end, label; relations need head, tail, label",
            ) from None
        docs.append(_check_document(doc, f"{path}:{lineno}"))
    return docs


def load_gold(path: str | Path) -> list[Document]:
    """Gold documents from JSONL or a Label Studio JSON export (file or folder), validated.

    Gold that breaks the schema (overlapping spans, edge whitespace, a relation
    against its type signature) is an error: scoring it would silently alter it.
    """
    docs = _read_gold(path)
    from tradeie.annotations.gold import validate

    report = validate(docs)
    if report.errors:
        more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
        raise TradeieError(
            f"{path}: invalid gold: {report.errors[0]}{more}",
            hint="run `tradeie annotations validate` on it and fix the annotations",
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


def load_dataset_split(folder: str | Path, split: str) -> list[Document]:
    """Gold documents of one split of a dataset folder (``tradeie dataset build --out``)."""
    from tradeie.data.dataset import documents_from_dataset, load_hub_folder

    data = load_hub_folder(folder, "documents")
    if split not in data:
        raise TradeieError(f"{folder}: no split {split!r} (has {', '.join(data)})", hint="choose another --split")
    return documents_from_dataset(data[split])


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


def error_rows(
    gold: list[Document], pred: list[Document], pred_gold_entities: list[Document] | None = None
) -> list[dict[str, Any]]:
    """Every entity and relation FP/FN as a row with its kind and sentence context."""
    rows: list[dict[str, Any]] = []
    for i, (g, p) in enumerate(zip(gold, pred)):
        sentences = sentences_of(g)
        for m in match_entities(g.entities, p.entities):
            if m.kind == "correct":
                continue
            spans = [e for e in (m.gold, m.pred) if e is not None]
            s, e = _context(g, sentences, min(x.start for x in spans), max(x.end for x in spans))
            rows.append(
                {
                    "doc_id": g.id,
                    "task": "ner",
                    "setting": "end_to_end",
                    "kind": m.kind,
                    "fp": m.pred is not None,
                    "fn": m.gold is not None,
                    "gold": _ent(m.gold),
                    "pred": _ent(m.pred),
                    "context_start": s,
                    "context_end": e,
                    "context": g.text[s:e],
                }
            )
        settings = [("end_to_end", p)]
        if pred_gold_entities is not None:
            settings.append(("gold_entities", pred_gold_entities[i]))
        for setting, doc in settings:
            for m in match_relations(g, doc, end_to_end=setting == "end_to_end"):
                if m.kind == "correct":
                    continue
                rel = m.gold or m.pred
                lo, hi = min(rel[0].start, rel[1].start), max(rel[0].end, rel[1].end)
                s, e = _context(g, sentences, lo, hi)
                rows.append(
                    {
                        "doc_id": g.id,
                        "task": "re",
                        "setting": setting,
                        "kind": m.kind,
                        "fp": m.pred is not None,
                        "fn": m.gold is not None,
                        "gold": _rel(m.gold),
                        "pred": _rel(m.pred),
                        "context_start": s,
                        "context_end": e,
                        "context": g.text[s:e],
                    }
                )
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
    gold: list[Document],
    pred: list[Document],
    *,
    pred_gold_entities: list[Document] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """All metrics of ``pred`` against ``gold`` plus error analysis rows.

    ``pred`` is paired with ``gold`` by document id (or identical text);
    ``pred_gold_entities`` optionally holds relation predictions made from gold entities.
    """
    if not gold:
        raise TradeieError("no gold documents to evaluate", hint="check the --gold file or --split")
    pred = pair_documents(gold, pred)
    if pred_gold_entities is not None:
        pred_gold_entities = pair_documents(gold, pred_gold_entities, "predictions with gold entities")
    metrics = compute_metrics(
        gold, pred, pred_gold_entities=pred_gold_entities, n_resamples=n_resamples, seed=seed, confidence=confidence
    )
    rows = error_rows(gold, pred, pred_gold_entities)
    metrics["errors"] = {**error_summary(rows), "rows": rows}
    return metrics


def strip_relations(docs: list[Document]) -> list[Document]:
    """Documents with their entities kept and relations removed (input for gold-entity RE)."""
    return [d.with_annotations(d.entities, ()) for d in docs]
