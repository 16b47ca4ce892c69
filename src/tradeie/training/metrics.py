"""Scores used while training: entity F1 (seqeval, strict IOB2) and strict relation F1.

The full evaluation (nervaluate schemes, confidence intervals, reports) is
the evaluation module's job; these are the numbers the trainers select
checkpoints and seeds on and write into ``metrics.json`` and the model card.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..corpus import document_tokens
from ..document import Document
from ..schema import ENTITY_LABELS, RELATION_LABELS
from ..tokens import bio_tags


def doc_tag_sequences(doc: Document, entities=None) -> list[list[str]]:
    """IOB2 tags per sentence of ``doc`` for ``entities`` (default: the document's)."""
    tokens = document_tokens(doc)
    return [bio_tags(toks, doc.entities if entities is None else entities, doc.id) for toks in tokens]


def seqeval_scores(y_true: list[list[str]], y_pred: list[list[str]]) -> dict:
    """Entity-level P/R/F1 (seqeval, strict IOB2): micro, per label with support."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    report = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True,
                                   zero_division=0)
    micro = report.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0})
    out = {
        "precision": float(micro["precision"]), "recall": float(micro["recall"]),
        "f1": float(micro["f1-score"]), "support": int(micro["support"]),
        "per_label": {},
    }
    for label in ENTITY_LABELS:
        row = report.get(label, {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0})
        out["per_label"][label] = {"precision": float(row["precision"]), "recall": float(row["recall"]),
                                   "f1": float(row["f1-score"]), "support": int(row["support"])}
    return out


def ner_scores(gold_docs: Sequence[Document], pred_docs: Sequence[Document]) -> dict:
    """seqeval strict IOB2 scores of predicted entities against gold, over every sentence."""
    y_true, y_pred = [], []
    for gold, pred in zip(gold_docs, pred_docs, strict=True):
        y_true += doc_tag_sequences(gold)
        y_pred += doc_tag_sequences(gold, pred.entities)
    return seqeval_scores(y_true, y_pred)


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "support": tp + fn}


def relation_scores(gold_docs: Sequence[Document], pred_docs: Sequence[Document]) -> dict:
    """Strict relation P/R/F1 (both argument spans + types exact, and the label), micro and per label."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for gold, pred in zip(gold_docs, pred_docs, strict=True):
        g, p = gold.relation_keys(), pred.relation_keys()
        for key in g & p:
            tp[key[2]] += 1
        for key in p - g:
            fp[key[2]] += 1
        for key in g - p:
            fn[key[2]] += 1
    out = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    out["per_label"] = {label: _prf(tp[label], fp[label], fn[label]) for label in RELATION_LABELS}
    return out
