"""Grouped K-fold cross-validation and learning curves over any "system".

A system is anything with ``name``, ``relations`` (whether it predicts
relations) and ``fit(train_docs, work_dir) -> predictor``, where the
predictor has ``predict(docs) -> docs`` (entities and relations predicted
from text alone) and, for relation systems, ``predict_relations(docs) ->
docs`` (relations predicted from the gold entities of ``docs``). Inputs to
``predict`` never carry gold annotations.

Folds come from :func:`tradeie.data.splits.group_kfold` (near-duplicate groups
kept together). Every document is tested exactly once, so the out-of-fold
predictions are also scored together ("pooled", with bootstrap intervals).
"""

from __future__ import annotations

import logging
import random
import shutil
import statistics
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.evaluation.evaluate import evaluate_documents, strip_relations
from tradeie.evaluation.scores import DEFAULT_RESAMPLES, compute_metrics

log = logging.getLogger(__name__)

#: Figures summarised over folds (besides per-label F1).
FOLD_METRICS = (
    "ner_f1",
    "ner_precision",
    "ner_recall",
    "ner_macro_f1",
    "ner_partial_f1",
    "ner_char_span_f1",
    "re_f1",
    "re_relaxed_f1",
    "re_gold_entities_f1",
)
CURVE_METRICS = ("ner_f1", "re_f1")


class Predictor(Protocol):
    def predict(self, docs: Sequence[Document]) -> list[Document]: ...


class System(Protocol):
    name: str
    relations: bool

    def fit(self, train_docs: Sequence[Document], work_dir: Path) -> Predictor: ...


def strip_annotations(docs: Sequence[Document]) -> list[Document]:
    """Copies of ``docs`` without entities or relations (what a system may see at test time)."""
    return [d.with_annotations((), ()) for d in docs]


# --------------------------------------------------------------------------- real systems


class BaselineSystem:
    """The NER baselines of :mod:`tradeie.training.baselines` (``crf``, ``gazetteer``); no relations."""

    relations = False

    def __init__(self, kind: str, config=None) -> None:
        self.kind = kind
        self.name = kind
        self.config = config

    def fit(self, train_docs: Sequence[Document], work_dir: Path):
        from tradeie.training.baselines import fit_baseline

        return fit_baseline(self.kind, list(train_docs), self.config)


class _RunPredictor:
    """Predictions of a trained run folder (``ner/`` and optionally ``re/``)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self._pipeline = load_run(self.run_dir)

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        return self._pipeline.predict_documents(list(docs), gold_entities=False)

    def predict_relations(self, docs: Sequence[Document]) -> list[Document]:
        return self._pipeline.predict_documents(list(docs), gold_entities=True)


class TransformerSystem:
    """The fine-tuned NER model plus the relation classifier (``tradeie train ner`` / ``re``).

    Inside a fold, one near-duplicate group of the training documents is held
    out for early stopping when there are at least ``min_docs_for_validation``
    training documents; otherwise training runs without validation.
    """

    name = "model"

    def __init__(self, ner_config, re_config=None, *, min_docs_for_validation: int = 4, seed: int = 13) -> None:
        self.ner_config = ner_config
        self.re_config = re_config
        self.relations = re_config is not None
        self.min_docs_for_validation = min_docs_for_validation
        self.seed = seed

    def _inner_split(self, docs: list[Document]) -> tuple[list[Document], list[Document]]:
        from tradeie.data.splits import groups_of

        groups = groups_of(docs)
        if len(docs) < self.min_docs_for_validation or len(groups) < 2:
            return docs, []
        held = sorted(groups)[random.Random(self.seed).randrange(len(groups))]
        eval_ids = set(groups[held])
        return [d for d in docs if d.id not in eval_ids], [d for d in docs if d.id in eval_ids]

    def fit(self, train_docs: Sequence[Document], work_dir: Path) -> _RunPredictor:
        from tradeie.training.ner import fit_ner

        train, val = self._inner_split(list(train_docs))
        fit_ner(train, val or None, self.ner_config, work_dir / "ner")
        if self.re_config is not None:
            from tradeie.training.relation import fit_re

            fit_re(train, val or None, self.re_config, work_dir / "re")
        return _RunPredictor(work_dir)


class _SystemsPredictor:
    """An NER system, optionally followed by a relation system, as a cross-validation predictor."""

    def __init__(self, ner, relation=None) -> None:
        self.ner, self.relation = ner, relation

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        pred = self.ner.predict(list(docs))
        return self.relation.predict(pred) if self.relation is not None else pred

    def predict_relations(self, docs: Sequence[Document]) -> list[Document]:
        return self.relation.predict(list(docs))


class RegisteredSystem:
    """A system of :mod:`tradeie.systems` by name, or an NER + relation pair written ``NER+RE``
    (e.g. ``crf+re-rules``)."""

    def __init__(self, name: str, overrides: dict[str, list[str]] | None = None) -> None:
        from tradeie.systems.base import system_class

        self.name = name
        self.ner_name, _, self.re_name = name.partition("+")
        self.relations = bool(self.re_name)
        self.overrides = overrides or {}
        for part in (self.ner_name, self.re_name):
            if part:
                system_class(part)  # unknown names fail before any training

    def _make(self, name: str):
        from tradeie.systems.base import system_class
        from tradeie.training.config import overrides_config

        cls = system_class(name)
        system = cls()
        if self.overrides.get(name):
            system = cls(overrides_config(cls.config_class, self.overrides[name], name, base=system.config))
        return system

    def fit(self, train_docs: Sequence[Document], work_dir: Path) -> _SystemsPredictor:
        train = list(train_docs)
        ner = self._make(self.ner_name).fit(train)
        relation = self._make(self.re_name).fit(train) if self.re_name else None
        return _SystemsPredictor(ner, relation)


def load_run(run_dir: str | Path):
    """The prediction pipeline (:class:`tradeie.predict.Pipeline`) of a trained run folder."""
    from tradeie.predict import Pipeline

    return Pipeline.load(run_dir)


# --------------------------------------------------------------------------- running


def _predict(system, predictor, test: list[Document]) -> tuple[list[Document], list[Document] | None]:
    pred = predictor.predict(strip_annotations(test))
    pge = None
    if system.relations and hasattr(predictor, "predict_relations"):
        pge = predictor.predict_relations(strip_relations(test))
    return pred, pge


def fold_values(metrics: dict[str, Any], relations: bool) -> dict[str, float]:
    """The figures averaged over folds: headline values and per-label F1."""
    out = {
        k: v["value"]
        for k, v in metrics["headline"].items()
        if k in FOLD_METRICS and (relations or not k.startswith("re_"))
    }
    for label, cell in metrics["ner"]["seqeval"]["strict"]["per_label"].items():
        out[f"ner_f1/{label}"] = cell["f1"]
    if relations:
        for label, cell in metrics["re"]["end_to_end"]["strict"]["per_label"].items():
            out[f"re_f1/{label}"] = cell["f1"]
    return out


def mean_sd(values: Sequence[float]) -> dict[str, Any]:
    """Mean and sample standard deviation (None with fewer than two values)."""
    values = [float(v) for v in values]
    return {
        "mean": statistics.fmean(values) if values else None,
        "sd": statistics.stdev(values) if len(values) > 1 else None,
        "n": len(values),
        "values": values,
    }


def run_cv(
    docs: Sequence[Document],
    systems: Sequence[System],
    k: int = 5,
    *,
    seed: int = 13,
    learning_curve: Sequence[int] | None = None,
    curve_systems: Sequence[str] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    work_dir: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Grouped K-fold CV of every system; mean ± sd per metric, pooled out-of-fold scores, learning curve.

    ``learning_curve`` lists training-set sizes (documents); within each fold the
    first n documents of a seeded shuffle of its training documents are used.
    Returns a dict with ``folds``, ``systems`` (per fold values and summary),
    ``pooled`` (full metrics of the out-of-fold predictions per system) and
    ``learning_curve``; the predictions themselves are in ``predictions``.
    """
    from tradeie.data.splits import group_kfold

    docs = list(docs)
    if not docs:
        raise TradeieError("cross-validation: no documents", hint="check --gold / --dataset")
    if not systems:
        raise TradeieError("cross-validation: no systems to train", hint="pass --systems")
    by_id = {d.id: d for d in docs}
    folds = group_kfold(docs, k, seed)
    say = progress or (lambda msg: log.info("%s", msg))
    own_tmp = work_dir is None
    root = Path(tempfile.mkdtemp(prefix="tradeie-cv-")) if own_tmp else Path(work_dir)
    curve_names = set(curve_systems) if curve_systems is not None else {s.name for s in systems}
    per_fold: dict[str, list[dict[str, float]]] = {s.name: [] for s in systems}
    oof: dict[str, dict[str, Document]] = {s.name: {} for s in systems}
    oof_gold_ents: dict[str, dict[str, Document]] = {s.name: {} for s in systems}
    curve: dict[str, dict[int, list[dict[str, float]]]] = {s.name: {} for s in systems if s.name in curve_names}
    try:
        for f, (train_ids, test_ids) in enumerate(folds):
            train, test = [by_id[i] for i in train_ids], [by_id[i] for i in test_ids]
            for system in systems:
                say(f"fold {f + 1}/{len(folds)}: {system.name} on {len(train)} training, {len(test)} test documents")
                predictor = system.fit(train, root / f"fold{f}" / system.name)
                pred, pge = _predict(system, predictor, test)
                m = compute_metrics(test, pred, pred_gold_entities=pge, n_resamples=0)
                per_fold[system.name].append(fold_values(m, system.relations))
                oof[system.name].update({d.id: d for d in pred})
                if pge is not None:
                    oof_gold_ents[system.name].update({d.id: d for d in pge})
                if system.name in curve:
                    _curve_points(
                        system,
                        train,
                        test,
                        f,
                        seed,
                        learning_curve or (),
                        root,
                        curve[system.name],
                        per_fold[system.name][-1],
                        say,
                    )
    finally:
        if own_tmp:
            shutil.rmtree(root, ignore_errors=True)

    order = [d.id for _, test_ids in folds for d in (by_id[i] for i in test_ids)]
    gold = [by_id[i] for i in order]
    pooled, predictions = {}, {}
    for system in systems:
        pred = [oof[system.name][i] for i in order]
        pge = [oof_gold_ents[system.name][i] for i in order] if oof_gold_ents[system.name] else None
        pooled[system.name] = evaluate_documents(gold, pred, pred_gold_entities=pge, n_resamples=n_resamples, seed=seed)
        pooled[system.name]["system"] = {"name": system.name, "relations": system.relations}
        predictions[system.name] = {"entities_and_relations": pred, "gold_entities": pge}
    return {
        "folds": len(folds),
        "seed": seed,
        "n_documents": len(docs),
        "assignments": [{"fold": f, "train": tr, "test": te} for f, (tr, te) in enumerate(folds)],
        "systems": {
            name: {
                "per_fold": values,
                "summary": {
                    key: mean_sd([v[key] for v in values if key in v])
                    for key in dict.fromkeys(k for v in values for k in v)
                },
            }
            for name, values in per_fold.items()
        },
        "learning_curve": {
            name: [
                {
                    "n_train": n,
                    **{m: mean_sd([p[m] for p in pts if m in p]) for m in CURVE_METRICS if any(m in p for p in pts)},
                }
                for n, pts in sorted(points.items())
            ]
            for name, points in curve.items()
            if points
        },
        "gold": gold,
        "pooled": pooled,
        "predictions": predictions,
    }


def _curve_points(
    system,
    train: list[Document],
    test: list[Document],
    fold: int,
    seed: int,
    sizes: Sequence[int],
    root: Path,
    out: dict[int, list[dict[str, float]]],
    full: dict[str, float],
    say,
) -> None:
    """Train on growing prefixes of a seeded shuffle of ``train``; the full size (always a point)
    reuses the fold result; sizes above the fold's training documents are skipped."""
    if not sizes:
        return
    shuffled = list(train)
    random.Random(f"{seed}:{fold}").shuffle(shuffled)
    for n in sorted({int(s) for s in sizes} | {len(train)}):
        if n < 1 or n > len(train):
            continue
        if n == len(train):
            out.setdefault(n, []).append({m: full[m] for m in CURVE_METRICS if m in full})
            continue
        say(f"fold {fold + 1}: learning curve, {system.name} on {n} training documents")
        try:
            predictor = system.fit(shuffled[:n], root / f"fold{fold}" / f"{system.name}-n{n}")
        except TradeieError as exc:  # e.g. a subset without any relation to learn from
            log.warning("learning curve: %s with %d documents skipped (%s)", system.name, n, exc)
            continue
        pred, pge = _predict(system, predictor, test)
        values = fold_values(compute_metrics(test, pred, pred_gold_entities=pge, n_resamples=0), system.relations)
        out.setdefault(n, []).append({m: values[m] for m in CURVE_METRICS if m in values})


def cv_summary_json(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able part of a :func:`run_cv` result (no documents, pooled metrics without error rows)."""
    return {key: value for key, value in result.items() if key not in ("gold", "pooled", "predictions")}
