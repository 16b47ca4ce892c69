"""Every evaluation score, computed once into plain dicts (rendered by :mod:`tradeie.evaluation.report`).

Inputs are aligned lists of gold and predicted :class:`~tradeie.document.Document`
(same ids, same texts, same order). Token tags come from :mod:`tradeie.text.tokens`
over :func:`tradeie.corpus.sentences_of` of the gold document.

Sections of the result:

- ``ner.seqeval.{default,strict}``: seqeval entity P/R/F1 (conlleval-compatible and
  strict IOB2), per label, micro, macro, weighted, with support;
- ``ner.nervaluate.{strict,exact,partial,ent_type}``: nervaluate's four schemes;
- ``ner.char_span`` (exact character offsets + label, whitespace-trimmed) and
  ``ner.char_overlap`` (labelled non-space characters): independent of tokenisation;
- ``ner.token_confusion``: scikit-learn confusion matrix over IOB2 tags and over types;
- ``re.<setting>.{strict,relaxed}``: relation P/R/F1 per label, micro, macro;
- ``headline``: the figures a reader looks at first, each with a 95% bootstrap
  confidence interval over documents (seeded, so reruns give the same interval).

Training uses the same figures: :func:`ner_figure` and :func:`relation_figures`
pick a headline's cells out of :func:`compute_metrics` as a typed :class:`Scores`
(checkpoint and seed selection, ``metrics.json``, the model card).

Every P/R/F1 cell is ``{"precision", "recall", "f1", "support", "predicted", "matched"}``
plus ``"ci": {"precision": [lo, hi], "recall": [...], "f1": [...]}``. Empty
denominators score 0 (seqeval's and nervaluate's ``zero_division=0`` convention).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tradeie.corpus import document_tokens
from tradeie.document import Document, Entity
from tradeie.errors import TradeieError
from tradeie.schema import BIO_TAGS, ENTITY_LABELS, RELATION_LABELS
from tradeie.text.tokens import SpanAlignmentError, Token, bio_tags

SCHEMA_VERSION = 1
NERVALUATE_SCHEMES = ("strict", "exact", "partial", "ent_type")
SEQEVAL_MODES = ("default", "strict")
DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
#: Seed of the bootstrap resampling (intervals are reproducible run to run).
BOOTSTRAP_SEED = 13

#: headline name -> (path into the metrics dict, averaged cell, statistic, description)
HEADLINE = {
    "ner_f1": (("ner", "seqeval", "strict"), "micro", "f1", "NER entity F1 (seqeval, strict IOB2, micro)"),
    "ner_precision": (("ner", "seqeval", "strict"), "micro", "precision", "NER entity precision (seqeval strict)"),
    "ner_recall": (("ner", "seqeval", "strict"), "micro", "recall", "NER entity recall (seqeval strict)"),
    "ner_macro_f1": (("ner", "seqeval", "strict"), "macro", "f1", "NER entity F1, macro over labels"),
    "ner_partial_f1": (("ner", "nervaluate", "partial"), "micro", "f1", "NER partial-match F1 (nervaluate)"),
    "ner_char_span_f1": (("ner", "char_span"), "micro", "f1", "NER exact character-span F1"),
    "re_f1": (("re", "end_to_end", "strict"), "micro", "f1", "RE F1 end to end (exact arguments + label)"),
    "re_relaxed_f1": (("re", "end_to_end", "relaxed"), "micro", "f1", "RE F1 end to end (overlapping arguments)"),
    "re_gold_entities_f1": (("re", "gold_entities", "strict"), "micro", "f1", "RE F1 with gold entities"),
    "re_fact_f1": (
        ("re", "end_to_end", "facts"),
        "micro",
        "f1",
        "RE fact F1 end to end ((head referent, tail referent, label) sets)",
    ),
    "re_gold_entities_fact_f1": (("re", "gold_entities", "facts"), "micro", "f1", "RE fact F1 with gold entities"),
}


# --------------------------------------------------------------------------- counts and scores


def prf(matched: float, predicted: float, gold: float) -> dict[str, float]:
    """Precision, recall, F1 (0 on an empty denominator) with the counts they come from."""
    p = matched / predicted if predicted else 0.0
    r = matched / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": float(p),
        "recall": float(r),
        "f1": float(f),
        "support": _num(gold),
        "predicted": _num(predicted),
        "matched": _num(matched),
    }


def _num(x: float) -> int | float:
    x = float(x)
    return int(x) if x.is_integer() else x


def _prf_arrays(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised :func:`prf` over the last axis (matched, predicted, gold)."""
    m, p, g = sums[..., 0], sums[..., 1], sums[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(p > 0, m / np.where(p > 0, p, 1), 0.0)
        rec = np.where(g > 0, m / np.where(g > 0, g, 1), 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / np.where(prec + rec > 0, prec + rec, 1), 0.0)
    return prec, rec, f1


@dataclass
class CountTable:
    """Per-document, per-label sufficient statistics ``(matched, predicted, gold)``.

    ``counts`` has shape ``(n_docs, n_labels, 3)``; ``overall`` (``(n_docs, 3)``),
    when given, replaces the sum over labels as the micro figure (nervaluate's
    overall scores are not always the sum of its per-label ones).
    """

    labels: list[str]
    counts: np.ndarray
    overall: np.ndarray | None = None

    def micro_counts(self) -> np.ndarray:
        return self.counts.sum(axis=1) if self.overall is None else self.overall

    def scores(self) -> dict[str, Any]:
        totals = self.counts.sum(axis=0)
        per_label = {label: prf(*totals[i]) for i, label in enumerate(self.labels)}
        micro = prf(*self.micro_counts().sum(axis=0))
        return {"per_label": per_label, "micro": micro, "macro": macro_average(per_label)}

    def resampled(self, weights: np.ndarray) -> dict[str, tuple[np.ndarray, ...]]:
        """P/R/F1 arrays (one value per resample) for each label, ``micro`` and ``macro``.

        A resample with neither gold nor predicted items for a label gives NaN there
        (nothing to score), so it does not pull that label's interval towards 0.
        """
        per_label = np.einsum("bd,dlk->blk", weights, self.counts)  # (B, L, 3)
        micro = weights @ self.micro_counts()  # (B, 3)
        prec, rec, f1 = _prf_arrays(per_label)
        present = (per_label[..., 1] + per_label[..., 2]) > 0
        n_present = present.sum(axis=1)
        denom = np.where(n_present > 0, n_present, 1)
        macro = tuple(np.where(n_present > 0, (x * present).sum(axis=1) / denom, np.nan) for x in (prec, rec, f1))
        out = {
            label: tuple(np.where(present[:, i], x[:, i], np.nan) for x in (prec, rec, f1))
            for i, label in enumerate(self.labels)
        }
        micro_present = (micro[:, 1] + micro[:, 2]) > 0
        out["micro"] = tuple(np.where(micro_present, x, np.nan) for x in _prf_arrays(micro))
        out["macro"] = macro
        return out


def macro_average(per_label: dict[str, dict]) -> dict[str, Any]:
    """Unweighted mean over labels that occur in gold or predictions (seqeval's convention)."""
    rows = [c for c in per_label.values() if c["support"] or c["predicted"]]
    support = sum(c["support"] for c in per_label.values())
    if not rows:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": support}
    return {k: float(np.mean([c[k] for c in rows])) for k in ("precision", "recall", "f1")} | {"support": support}


# --------------------------------------------------------------------------- bootstrap


def bootstrap_weights(n_docs: int, n_resamples: int = DEFAULT_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """How often each document is drawn in each of ``n_resamples`` resamples, shape ``(B, n_docs)``."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_docs, size=(n_resamples, n_docs)) if n_docs else np.zeros((n_resamples, 0), int)
    weights = np.zeros((n_resamples, n_docs))
    np.add.at(weights, (np.repeat(np.arange(n_resamples), n_docs), draws.ravel()), 1)
    return weights


def attach_ci(scores: dict[str, Any], table: CountTable, weights: np.ndarray, confidence: float) -> None:
    """Add percentile bootstrap intervals to ``scores`` (as returned by ``table.scores()``), in place."""
    if weights.shape[1] == 0:
        return
    lo_q, hi_q = 100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2
    for name, arrays in table.resampled(weights).items():
        cell = scores["per_label"][name] if name in scores["per_label"] else scores[name]
        if np.isnan(arrays[2]).all():
            continue
        cell["ci"] = {
            stat: [float(np.nanpercentile(a, lo_q)), float(np.nanpercentile(a, hi_q))]
            for stat, a in zip(("precision", "recall", "f1"), arrays)
        }


# --------------------------------------------------------------------------- token views


@dataclass
class TokenView:
    """One document's sentence tokens with gold and predicted IOB2 tags."""

    doc_id: str
    tokens: list[list[Token]]
    gold: list[list[str]]
    pred: list[list[str]]


@dataclass
class AlignmentStats:
    """Predicted spans that had to be adapted to the gold tokenisation for token-level scores."""

    snapped: int = 0
    dropped_overlapping: int = 0
    dropped_empty: int = 0
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "snapped": self.snapped,
            "dropped_overlapping": self.dropped_overlapping,
            "dropped_empty": self.dropped_empty,
            "examples": self.examples[:10],
        }


def _snap(doc: Document, tokens: list[list[Token]], stats: AlignmentStats) -> list[Entity]:
    """Predicted entities moved onto whole tokens, clipped to sentences, overlaps removed."""
    flat = [t for sent in tokens for t in sent]
    sent_of = [i for i, sent in enumerate(tokens) for _ in sent]
    pieces: list[Entity] = []
    for ent in doc.entities:
        inside = [k for k, t in enumerate(flat) if t.end > ent.start and t.start < ent.end]
        if not inside:
            stats.dropped_empty += 1
            continue
        runs: dict[int, list[int]] = {}
        for k in inside:
            runs.setdefault(sent_of[k], []).append(k)
        new = [Entity(flat[ks[0]].start, flat[ks[-1]].end, ent.label, ent.id) for ks in runs.values()]
        if len(new) != 1 or (new[0].start, new[0].end) != (ent.start, ent.end):
            stats.snapped += 1
            stats.examples.append(
                f"{doc.id} [{ent.start}:{ent.end}] {doc.text[ent.start : ent.end]!r} -> "
                + ", ".join(f"[{e.start}:{e.end}]" for e in new)
            )
        pieces += new
    kept: list[Entity] = []
    for ent in sorted(pieces, key=lambda e: (e.start, -(e.end - e.start), e.label)):
        if kept and ent.start < kept[-1].end:
            stats.dropped_overlapping += 1
            continue
        kept.append(ent)
    return kept


def token_views(gold: list[Document], pred: list[Document]) -> tuple[list[TokenView], AlignmentStats]:
    """IOB2 tags of gold and predicted entities over the gold document's sentences.

    Gold spans must align with token boundaries (a misaligned one is an error naming
    the document and offsets); predicted spans from another tokeniser are snapped to
    the tokens they cover, and counted in the returned stats.
    """
    _check_aligned(gold, pred)
    stats = AlignmentStats()
    views = []
    for g, p in zip(gold, pred):
        tokens = document_tokens(g)
        try:
            gold_tags = [bio_tags(t, g.entities, g.id) for t in tokens]
        except SpanAlignmentError as exc:
            raise TradeieError(
                f"gold {exc}",
                hint="fix the gold span; gold must align with token boundaries and stay inside one sentence",
            ) from None
        snapped = _snap(p, tokens, stats)
        pred_tags = [bio_tags(t, snapped, p.id) for t in tokens]
        views.append(TokenView(g.id, tokens, gold_tags, pred_tags))
    return views, stats


def _check_aligned(gold: list[Document], pred: list[Document]) -> None:
    if [d.id for d in gold] != [d.id for d in pred]:
        raise ValueError("gold and predicted documents must have the same ids in the same order")
    for g, p in zip(gold, pred):
        if g.text != p.text:
            raise ValueError(f"document {g.id}: predicted text differs from the gold text")


def entity_labels(gold: list[Document], pred: list[Document]) -> list[str]:
    """The schema's entity labels, then any other label seen (sorted)."""
    seen = {e.label for d in (*gold, *pred) for e in d.entities}
    return list(ENTITY_LABELS) + sorted(seen - set(ENTITY_LABELS))


# --------------------------------------------------------------------------- seqeval


def _seqeval_entities(sequences: list[list[str]], mode: str) -> set[tuple[str, int, int, int]]:
    """Entities (type, sentence, start, end) as seqeval extracts them in ``mode``."""
    if mode == "strict":
        from seqeval.scheme import IOB2, Entities

        return {(e.tag, e.sent_id, e.start, e.end) for sent in Entities(sequences, IOB2).entities for e in sent}
    from seqeval.metrics.sequence_labeling import get_entities

    out = set()
    for i, seq in enumerate(sequences):
        out |= {(t, i, s, e) for t, s, e in get_entities(list(seq))}
    return out


def seqeval_table(views: list[TokenView], labels: list[str], mode: str) -> CountTable:
    """Per-document counts from seqeval's own entity extraction (for intervals)."""
    counts = np.zeros((len(views), len(labels), 3))
    index = {label: i for i, label in enumerate(labels)}
    for d, view in enumerate(views):
        true, pred = _seqeval_entities(view.gold, mode), _seqeval_entities(view.pred, mode)
        for ents, k in ((true & pred, 0), (pred, 1), (true, 2)):
            for ent in ents:
                if ent[0] in index:
                    counts[d, index[ent[0]], k] += 1
    return CountTable(labels, counts)


def seqeval_scores(y_true: list[list[str]], y_pred: list[list[str]], mode: str, labels: list[str]) -> dict:
    """seqeval's classification report (``mode`` "default" or "strict" IOB2) as a scores dict."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    kwargs = {"mode": "strict", "scheme": IOB2} if mode == "strict" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kwargs)
    entities_true = _seqeval_entities(y_true, mode)
    entities_pred = _seqeval_entities(y_pred, mode)

    def cell(row: dict, label: str | None) -> dict:
        keep = (lambda e: True) if label is None else (lambda e: e[0] == label)
        t = {e for e in entities_true if keep(e)}
        p = {e for e in entities_pred if keep(e)}
        return {
            "precision": _finite(row["precision"]),
            "recall": _finite(row["recall"]),
            "f1": _finite(row["f1-score"]),
            "support": int(row["support"]),
            "predicted": len(p),
            "matched": len(t & p),
        }

    zero = {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    per_label = {label: cell(report.get(label, zero), label) for label in labels}
    return {
        "per_label": per_label,
        "micro": cell(report["micro avg"], None),
        "macro": {k: v for k, v in cell(report["macro avg"], None).items() if k not in ("predicted", "matched")},
        "weighted": {k: v for k, v in cell(report["weighted avg"], None).items() if k not in ("predicted", "matched")},
    }


def _finite(x: Any) -> float:
    x = float(x)
    return 0.0 if math.isnan(x) else x


def flat_sequences(views: list[TokenView]) -> tuple[list[list[str]], list[list[str]]]:
    return [s for v in views for s in v.gold], [s for v in views for s in v.pred]


# --------------------------------------------------------------------------- nervaluate

_NV_FIELDS = ("correct", "incorrect", "partial", "missed", "spurious")


def _nervaluate_doc(view: TokenView, labels: list[str]) -> dict[str, np.ndarray]:
    """Scheme -> counts ``(n_labels + 1, 5)`` (last row: nervaluate's overall) for one document."""
    from nervaluate import Evaluator

    out = {s: np.zeros((len(labels) + 1, len(_NV_FIELDS))) for s in NERVALUATE_SCHEMES}
    if not view.gold:
        return out
    results = Evaluator(view.gold, view.pred, tags=labels, loader="list").evaluate()
    for scheme in NERVALUATE_SCHEMES:
        if scheme in results["overall"]:
            out[scheme][-1] = [getattr(results["overall"][scheme], f) for f in _NV_FIELDS]
        for i, label in enumerate(labels):
            res = results["entities"].get(label, {}).get(scheme)
            if res is not None:
                out[scheme][i] = [getattr(res, f) for f in _NV_FIELDS]
    return out


def nervaluate_scores(views: list[TokenView], labels: list[str]) -> tuple[dict, dict[str, CountTable]]:
    """nervaluate's four schemes per label and overall, summed over documents.

    Precision/recall/F1 come from nervaluate's own ``EvaluationResult.compute_metrics``
    on the summed counts; ``support`` is nervaluate's ``possible``.
    """
    from nervaluate.entities import EvaluationResult

    per_doc = [_nervaluate_doc(v, labels) for v in views]
    scores: dict[str, Any] = {}
    tables: dict[str, CountTable] = {}
    for scheme in NERVALUATE_SCHEMES:
        raw = np.stack([d[scheme] for d in per_doc]) if per_doc else np.zeros((0, len(labels) + 1, 5))
        half = scheme in ("partial", "ent_type")

        def cell(row: np.ndarray) -> dict:
            res = EvaluationResult(**{f: int(v) for f, v in zip(_NV_FIELDS, row)})
            res.compute_metrics(partial_or_type=half)
            matched = res.correct + (0.5 * res.partial if half else 0)
            return {
                "precision": float(res.precision),
                "recall": float(res.recall),
                "f1": float(res.f1),
                "support": res.possible,
                "predicted": res.actual,
                "matched": _num(matched),
                "possible": res.possible,
                "actual": res.actual,
                **{f: getattr(res, f) for f in _NV_FIELDS},
            }

        totals = raw.sum(axis=0)
        per_label = {label: cell(totals[i]) for i, label in enumerate(labels)}
        scores[scheme] = {"per_label": per_label, "micro": cell(totals[-1]), "macro": macro_average(per_label)}
        # (matched, actual, possible) per document, for intervals
        c, inc, par, mis, spu = (raw[..., k] for k in range(5))
        triple = np.stack([c + (0.5 * par if half else 0), c + inc + par + spu, c + inc + par + mis], axis=-1)
        tables[scheme] = CountTable(labels, triple[:, :-1], overall=triple[:, -1])
    return scores, tables


# --------------------------------------------------------------------------- character level


def _trim(text: str, ent: Entity) -> tuple[int, int]:
    s, e = ent.start, ent.end
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def char_span_table(gold: list[Document], pred: list[Document], labels: list[str]) -> CountTable:
    """Exact (whitespace-trimmed) character spans + label: no tokenisation involved."""
    counts = np.zeros((len(gold), len(labels), 3))
    for d, (g, p) in enumerate(zip(gold, pred)):
        for i, label in enumerate(labels):
            gs = {_trim(g.text, e) for e in g.entities if e.label == label}
            ps = {_trim(p.text, e) for e in p.entities if e.label == label}
            counts[d, i] = (len(gs & ps), len(ps), len(gs))
    return CountTable(labels, counts)


def char_overlap_table(gold: list[Document], pred: list[Document], labels: list[str]) -> CountTable:
    """Non-space characters labelled alike in gold and prediction (partial credit, no tokens)."""
    counts = np.zeros((len(gold), len(labels), 3))
    for d, (g, p) in enumerate(zip(gold, pred)):
        for i, label in enumerate(labels):
            gs = {k for e in g.entities if e.label == label for k in range(e.start, e.end) if not g.text[k].isspace()}
            ps = {k for e in p.entities if e.label == label for k in range(e.start, e.end) if not p.text[k].isspace()}
            counts[d, i] = (len(gs & ps), len(ps), len(gs))
    return CountTable(labels, counts)


# --------------------------------------------------------------------------- relations


def overlaps(a: Entity, b: Entity) -> bool:
    return a.start < b.end and b.start < a.end


def relation_tuples(doc: Document) -> list[tuple[Entity, Entity, str]]:
    """(head entity, tail entity, label), one per distinct (head span, tail span, label)."""
    index = doc.entity_index()
    seen, out = set(), []
    for rel in doc.relations:
        if rel.head in index and rel.tail in index:
            h, t = index[rel.head], index[rel.tail]
            key = (h.key, t.key, rel.label)
            if key not in seen:
                seen.add(key)
                out.append((h, t, rel.label))
    return sorted(out, key=lambda r: (r[0].key, r[1].key, r[2]))


def relaxed_relation_matches(gold_rels: list, pred_rels: list) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs: same label, both arguments overlapping.

    Exact matches are paired first, then the remaining pairs greedily by largest overlap.
    """

    def overlap(a: Entity, b: Entity) -> int:
        return max(0, min(a.end, b.end) - max(a.start, b.start))

    pairs, used_g, used_p = [], set(), set()
    for gi, g in enumerate(gold_rels):
        for pi, p in enumerate(pred_rels):
            if pi not in used_p and (g[0].key, g[1].key, g[2]) == (p[0].key, p[1].key, p[2]):
                pairs.append((gi, pi))
                used_g.add(gi)
                used_p.add(pi)
                break
    candidates = sorted(
        (
            (-(overlap(g[0], p[0]) + overlap(g[1], p[1])), gi, pi)
            for gi, g in enumerate(gold_rels)
            if gi not in used_g
            for pi, p in enumerate(pred_rels)
            if pi not in used_p and g[2] == p[2] and overlaps(g[0], p[0]) and overlaps(g[1], p[1])
        )
    )
    for _, gi, pi in candidates:
        if gi not in used_g and pi not in used_p:
            pairs.append((gi, pi))
            used_g.add(gi)
            used_p.add(pi)
    return pairs


def relation_tables(
    gold: list[Document], pred: list[Document], labels: list[str] | None = None
) -> dict[str, CountTable]:
    """``strict`` (exact argument spans + label) and ``relaxed`` (overlapping arguments) counts."""
    labels = labels or list(RELATION_LABELS) + sorted(
        {r.label for d in (*gold, *pred) for r in d.relations} - set(RELATION_LABELS)
    )
    strict = np.zeros((len(gold), len(labels), 3))
    relaxed = np.zeros((len(gold), len(labels), 3))
    for d, (g, p) in enumerate(zip(gold, pred)):
        g_rels, p_rels = relation_tuples(g), relation_tuples(p)
        g_keys = {(h.key, t.key, lab) for h, t, lab in g_rels}
        matched = relaxed_relation_matches(g_rels, p_rels)
        for i, label in enumerate(labels):
            n_pred = sum(r[2] == label for r in p_rels)
            n_gold = sum(r[2] == label for r in g_rels)
            exact = sum((h.key, t.key, lab) in g_keys for h, t, lab in p_rels if lab == label)
            strict[d, i] = (exact, n_pred, n_gold)
            relaxed[d, i] = (sum(g_rels[gi][2] == label for gi, _ in matched), n_pred, n_gold)
    facts = np.zeros((len(gold), len(labels), 3))
    for d, (g, p) in enumerate(zip(gold, pred)):
        g_facts, p_facts = document_facts(g), document_facts(p, gold=g)
        for i, label in enumerate(labels):
            gl = {f for f in g_facts if f[2] == label}
            pl = {f for f in p_facts if f[2] == label}
            facts[d, i] = (len(gl & pl), len(pl), len(gl))
    return {
        "strict": CountTable(labels, strict),
        "relaxed": CountTable(labels, relaxed),
        "facts": CountTable(labels, facts),
    }


def gold_referent(ent: Entity) -> str:
    """A gold mention's referent (its own id when the annotation has none)."""
    return ent.referent or f"mention:{ent.id}"


def referent_map(doc: Document, gold: Document | None = None) -> dict[str, str]:
    """Entity id -> referent. With ``gold``, a predicted mention takes the referent of the gold
    mention of the same label it overlaps most; one that overlaps none is its own referent."""
    if gold is None:
        return {e.id: gold_referent(e) for e in doc.entities}
    out = {}
    for ent in doc.entities:
        best = max(
            (g for g in gold.entities if g.label == ent.label and overlaps(g, ent)),
            key=lambda g: (min(g.end, ent.end) - max(g.start, ent.start), -g.start),
            default=None,
        )
        out[ent.id] = gold_referent(best) if best is not None else f"spurious:{ent.start}:{ent.end}"
    return out


def document_facts(doc: Document, gold: Document | None = None) -> set[tuple[str, str, str]]:
    """The document's relations as facts ``(head referent, tail referent, label)`` (see :func:`referent_map`)."""
    refs = referent_map(doc, gold)
    return {(refs[r.head], refs[r.tail], r.label) for r in doc.relations if r.head in refs and r.tail in refs}


# --------------------------------------------------------------------------- confusion


def token_confusion(views: list[TokenView]) -> dict[str, Any]:
    """Token-level confusion matrices (rows gold, columns predicted): IOB2 tags and entity types."""
    from sklearn.metrics import confusion_matrix

    y_true = [t for v in views for s in v.gold for t in s]
    y_pred = [t for v in views for s in v.pred for t in s]
    tags = list(BIO_TAGS) + sorted(set(y_true + y_pred) - set(BIO_TAGS))
    types = ["O"] + list(dict.fromkeys(t.split("-", 1)[1] for t in tags if t != "O"))

    def typ(tag: str) -> str:
        return tag.split("-", 1)[1] if tag != "O" else "O"

    out: dict[str, Any] = {"n_tokens": len(y_true)}
    if y_true:
        out["tags"] = {"labels": tags, "matrix": confusion_matrix(y_true, y_pred, labels=tags).tolist()}
        out["types"] = {
            "labels": types,
            "matrix": confusion_matrix([typ(t) for t in y_true], [typ(t) for t in y_pred], labels=types).tolist(),
        }
    else:
        out["tags"] = {"labels": tags, "matrix": [[0] * len(tags) for _ in tags]}
        out["types"] = {"labels": types, "matrix": [[0] * len(types) for _ in types]}
    return out


# --------------------------------------------------------------------------- everything


def compute_metrics(
    gold: list[Document],
    pred: list[Document],
    *,
    pred_gold_entities: list[Document] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """All scores of ``pred`` against ``gold`` (aligned lists), with bootstrap intervals.

    ``pred_gold_entities`` are predictions made from the gold entities (relation
    extraction only); when given, ``re.gold_entities`` is filled too.
    """
    views, alignment = token_views(gold, pred)
    labels = entity_labels(gold, pred)
    weights = bootstrap_weights(len(gold), n_resamples, seed)

    y_true, y_pred = flat_sequences(views)
    seqeval = {}
    for mode in SEQEVAL_MODES:
        seqeval[mode] = seqeval_scores(y_true, y_pred, mode, labels)
        attach_ci(seqeval[mode], seqeval_table(views, labels, mode), weights, confidence)
    nerv, nerv_tables = nervaluate_scores(views, labels)
    for scheme, table in nerv_tables.items():
        attach_ci(nerv[scheme], table, weights, confidence)
    ner: dict[str, Any] = {"labels": labels, "seqeval": seqeval, "nervaluate": nerv}
    for name, table in (
        ("char_span", char_span_table(gold, pred, labels)),
        ("char_overlap", char_overlap_table(gold, pred, labels)),
    ):
        ner[name] = table.scores()
        attach_ci(ner[name], table, weights, confidence)
    ner["token_confusion"] = token_confusion(views)
    ner["token_alignment"] = alignment.as_dict()

    re_scores: dict[str, Any] = {"labels": None}
    settings = {"end_to_end": pred}
    if pred_gold_entities is not None:
        _check_aligned(gold, pred_gold_entities)
        settings["gold_entities"] = pred_gold_entities
    for setting, docs in settings.items():
        tables = relation_tables(gold, docs)
        re_scores["labels"] = tables["strict"].labels
        re_scores[setting] = {}
        for kind, table in tables.items():
            re_scores[setting][kind] = table.scores()
            attach_ci(re_scores[setting][kind], table, weights, confidence)

    metrics = {
        "schema_version": SCHEMA_VERSION,
        "documents": [d.id for d in gold],
        "counts": {
            "documents": len(gold),
            "sentences": sum(len(v.tokens) for v in views),
            "tokens": ner["token_confusion"]["n_tokens"],
            "gold_entities": sum(len(d.entities) for d in gold),
            "predicted_entities": sum(len(d.entities) for d in pred),
            "gold_relations": sum(len(relation_tuples(d)) for d in gold),
            "predicted_relations": sum(len(relation_tuples(d)) for d in pred),
        },
        "bootstrap": {
            "unit": "document",
            "resamples": n_resamples,
            "seed": seed,
            "confidence": confidence,
            "method": "percentile",
        },
        "ner": ner,
        "re": re_scores,
    }
    metrics["headline"] = headline(metrics)
    return metrics


def headline(metrics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The headline figures (value and interval) picked out of a metrics dict."""
    out = {}
    for name, (path, avg, stat, description) in HEADLINE.items():
        node: Any = metrics
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if not node:
            continue
        cell = node[avg]
        ci = cell.get("ci", {}).get(stat)
        out[name] = {
            "value": cell[stat],
            "ci_low": ci[0] if ci else None,
            "ci_high": ci[1] if ci else None,
            "support": cell["support"],
            "predicted": node["micro"]["predicted"],
            "description": description,
            "path": ".".join((*path, avg, stat)),
        }
    return out


# --------------------------------------------------------------------------- one figure, typed


@dataclass(frozen=True)
class Scores:
    """One headline figure of :func:`compute_metrics`: micro P/R/F1, counts, interval, per-label cells.

    What training selects seeds on and writes into ``metrics.json`` and the
    model card; always read out of a metrics dict, never recomputed.
    """

    metric: str
    precision: float
    recall: float
    f1: float
    support: int | float
    predicted: int | float
    matched: int | float
    ci: dict[str, list[float]] | None = None
    per_label: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``precision``, ``recall``, ``f1``, ``support`` (+ counts, ``ci``, ``per_label``)."""
        return {
            "metric": self.metric,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
            "predicted": self.predicted,
            "matched": self.matched,
            "ci": self.ci,
            "per_label": self.per_label,
        }


_CELL_KEYS = ("precision", "recall", "f1", "support", "predicted", "matched")


def figure(metrics: dict[str, Any], name: str) -> Scores:
    """The micro cell and per-label cells behind headline ``name`` (a key of :data:`HEADLINE`)."""
    path, avg, _, _ = HEADLINE[name]
    node: Any = metrics
    for key in path:
        node = node[key]
    cell = node[avg]
    per_label = {label: {k: c[k] for k in _CELL_KEYS} for label, c in node["per_label"].items()}
    return Scores(name, *(cell[k] for k in _CELL_KEYS), ci=cell.get("ci"), per_label=per_label)


def ner_figure(gold: Sequence[Document], pred: Sequence[Document], **kwargs: Any) -> Scores:
    """NER entity F1 (seqeval strict IOB2, micro): headline ``ner_f1`` of :func:`compute_metrics`."""
    return figure(compute_metrics(list(gold), list(pred), **kwargs), "ner_f1")


def relation_figures(
    gold: Sequence[Document],
    pred_gold_entities: Sequence[Document],
    pred_end_to_end: Sequence[Document] | None = None,
    **kwargs: Any,
) -> dict[str, Scores]:
    """Strict RE F1 with gold entities (``gold_entities``: headline ``re_gold_entities_f1``) and,
    given predictions from predicted entities, end to end (``end_to_end``: headline ``re_f1``)."""
    pred = list(pred_gold_entities if pred_end_to_end is None else pred_end_to_end)
    metrics = compute_metrics(list(gold), pred, pred_gold_entities=list(pred_gold_entities), **kwargs)
    out = {"gold_entities": figure(metrics, "re_gold_entities_f1")}
    if pred_end_to_end is not None:
        out["end_to_end"] = figure(metrics, "re_f1")
    return out
