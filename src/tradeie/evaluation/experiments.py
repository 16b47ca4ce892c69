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

import dataclasses
import logging
import random
import re
import shutil
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.evaluation.evaluate import evaluate_documents, strip_relations
from tradeie.evaluation.report import HEADLINE_ROWS
from tradeie.evaluation.scores import DEFAULT_RESAMPLES, compute_metrics
from tradeie.systems.transformer import DEFAULT_NER_CONFIG
from tradeie.systems.transformer_re import DEFAULT_RE_CONFIG

log = logging.getLogger(__name__)

#: Figures summarised over folds (besides per-label F1): the headline rows but the fact scores.
FOLD_METRICS = tuple(k for k in HEADLINE_ROWS if not k.endswith("fact_f1"))
CURVE_METRICS = ("ner_f1", "re_f1")
#: ``--systems`` names besides the registered systems: the fine-tuned transformers, the gazetteer baseline.
MODEL = "model"
GAZETTEER = "gazetteer"
DEFAULT_SYSTEMS = (MODEL, "crf", GAZETTEER)


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

    def __init__(self, kind: str, config=None, *, name: str | None = None) -> None:
        self.kind = kind
        self.name = name or kind
        self.config = config

    @property
    def configs(self) -> dict[str, Any]:
        from tradeie.training.config import BaselineConfig

        return {self.kind: self.config or BaselineConfig()}

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

    def __init__(
        self,
        ner_config,
        re_config=None,
        *,
        min_docs_for_validation: int = 4,
        seed: int = 13,
        name: str = MODEL,
    ) -> None:
        self.name = name
        self.ner_config = ner_config
        self.re_config = re_config
        self.relations = re_config is not None
        self.min_docs_for_validation = min_docs_for_validation
        self.seed = seed

    @property
    def configs(self) -> dict[str, Any]:
        return {"ner": self.ner_config, "re": self.re_config}

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


def system_config(name: str, overrides: Sequence[str] = ()):
    """The config of registered system ``name`` with ``KEY=VALUE`` overrides applied (and checked) now."""
    from tradeie.systems.base import system_class
    from tradeie.training.config import overrides_config

    cls = system_class(name)
    default = cls().config
    return overrides_config(cls.config_class, overrides, name, base=default) if overrides else default


class RegisteredSystem:
    """A system of :mod:`tradeie.systems` by name, or an NER + relation pair written ``NER+RE``
    (e.g. ``crf+re-rules``); ``overrides`` maps a part's name to its ``KEY=VALUE`` items."""

    def __init__(self, system: str, overrides: dict[str, list[str]] | None = None, *, name: str | None = None) -> None:
        self.name = name or system
        self.ner_name, _, self.re_name = system.partition("+")
        self.relations = bool(self.re_name)
        overrides = overrides or {}
        # unknown names and bad overrides fail here, before any training
        parts = [part for part in (self.ner_name, self.re_name) if part]
        self.configs = {part: system_config(part, overrides.get(part, ())) for part in parts}

    def _make(self, part: str):
        from tradeie.systems.base import system_class

        return system_class(part)(self.configs[part])

    def fit(self, train_docs: Sequence[Document], work_dir: Path) -> _SystemsPredictor:
        train = list(train_docs)
        ner = self._make(self.ner_name).fit(train)
        relation = self._make(self.re_name).fit(train) if self.re_name else None
        return _SystemsPredictor(ner, relation)


# --------------------------------------------------------------------------- choosing systems

_SPEC = re.compile(r"^([^\[\],\s]+)(?:\[(.*)\])?$")


@dataclass(frozen=True)
class SystemSpec:
    """One ``--systems`` entry: ``NAME``, or a config variant ``NAME[KEY=VALUE,...]`` of it."""

    name: str
    base: str
    overrides: tuple[str, ...] = ()

    @property
    def parts(self) -> tuple[str, ...]:
        """What config values can target: ``ner``/``re`` for ``model``, each member of a pair, else the name."""
        return ("ner", "re") if self.base == MODEL else tuple(self.base.split("+"))


def parse_system(text: str) -> SystemSpec:
    """``crf`` -> crf; ``crf[c2=0.5, max_iterations=50]`` -> a variant named ``crf[c2=0.5,max_iterations=50]``.

    Items are split at commas that start a new ``KEY=``, so list values stay whole:
    ``crf-rules[rule_labels=["TARIFF","AGREEMENT"]]``.
    """
    match = _SPEC.match(text.strip())
    if match is None:
        raise TradeieError(f"--systems: {text!r}: expected NAME or NAME[KEY=VALUE,...]", hint="e.g. crf,crf[c2=0.5]")
    base, inner = match.groups()
    if inner is None:
        return SystemSpec(base, base)
    items = tuple(x.strip() for x in re.split(r",(?=\s*[\w.-]+\s*=)", inner) if x.strip())  # keeps a=[x,y] whole
    if not items or any("=" not in x for x in items):
        raise TradeieError(
            f"--systems: {text!r}: expected KEY=VALUE items inside [...]", hint=f"e.g. {base}[KEY=VALUE]"
        )
    return SystemSpec(f"{base}[{','.join(items)}]", base, items)


def parse_overrides(items: Sequence[str]) -> dict[str, list[str]]:
    """``--set SYSTEM.KEY=VALUE`` items as ``{SYSTEM: ["KEY=VALUE", ...]}``."""
    out: dict[str, list[str]] = {}
    for item in items:
        key = item.partition("=")[0]
        target, dot, rest = item.partition(".")
        if "=" not in item or not dot or "." not in key or not target:
            raise TradeieError(f"--set {item!r}: expected SYSTEM.KEY=VALUE", hint="e.g. --set crf.c1=0.1")
        out.setdefault(target, []).append(rest)
    return out


def _variant_overrides(spec: SystemSpec) -> dict[str, list[str]]:
    """A variant's items per part; ``KEY=VALUE`` without a part only where the system has one part."""
    out: dict[str, list[str]] = {}
    for item in spec.overrides:
        if "." in item.partition("=")[0]:
            part, _, rest = item.partition(".")
        elif len(spec.parts) == 1:
            part, rest = spec.parts[0], item
        else:
            part, rest = "", item
        if part not in spec.parts:
            raise TradeieError(
                f"--systems: {spec.name}: {item!r} sets no part of {spec.base}",
                hint=f"write PART.KEY=VALUE with PART one of {', '.join(spec.parts)}",
            )
        out.setdefault(part, []).append(rest)
    return out


def _check_names(specs: Sequence[SystemSpec]) -> None:
    from tradeie.systems.base import system_names

    registered = set(system_names())
    unknown = sorted(
        {s.base for s in specs if s.base not in {MODEL, GAZETTEER} | registered and not set(s.parts) <= registered}
    )
    if unknown or not specs:
        raise TradeieError(
            f"--systems: unknown system(s) {', '.join(unknown) or '(none given)'}",
            hint=f"choose from model, gazetteer, {', '.join(sorted(registered))} or NER+RE pairs such as crf+re-rules",
        )
    names = [s.name for s in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise TradeieError(f"--systems: {', '.join(twice)} given twice", hint="name each system or variant once")


def make_systems(
    names: Sequence[str],
    overrides: Sequence[str] = (),
    *,
    ner_config: str | Path = DEFAULT_NER_CONFIG,
    re_config: str | Path = DEFAULT_RE_CONFIG,
    seed: int = 13,
) -> list[System]:
    """The systems of ``tradeie cv --systems``, every config checked before any training.

    A name is a registered system, an ``NER+RE`` pair, ``model`` (the transformers
    of ``ner_config`` and ``re_config``; ``re_config="none"``: NER only) or
    ``gazetteer``. ``NAME[KEY=VALUE,...]`` is a variant of it (an ablation row):
    ``PART.KEY=VALUE`` sets one member of a pair (``ner.``/``re.`` for ``model``).
    ``overrides`` (``--set SYSTEM.KEY=VALUE``) set every system with that part, before
    the variants' own values.
    """
    specs = [parse_system(n) for n in names]
    _check_names(specs)
    shared = parse_overrides(overrides)
    unused = sorted(set(shared) - {part for spec in specs for part in spec.parts})
    if unused:
        raise TradeieError(
            f"--set {unused[0]}.{shared[unused[0]][0]}: no system in --systems has a part {unused[0]!r}",
            hint="--set SYSTEM.KEY=VALUE names a system of --systems (ner./re. for model)",
        )
    systems: list[System] = []
    for spec in specs:
        own = _variant_overrides(spec)
        per_part = {part: [*shared.get(part, ()), *own.get(part, ())] for part in spec.parts}
        if spec.base == MODEL:
            from tradeie.training.config import load_config

            ner = load_config(ner_config, per_part["ner"], task="ner")
            re_cfg = None if str(re_config) == "none" else load_config(re_config, per_part["re"], task="re")
            systems.append(TransformerSystem(ner, re_cfg, seed=seed, name=spec.name))
        elif spec.base == GAZETTEER:
            from tradeie.training.config import BaselineConfig, overrides_config

            config = overrides_config(BaselineConfig, per_part[GAZETTEER], "baseline", base=BaselineConfig())
            systems.append(BaselineSystem(GAZETTEER, config if per_part[GAZETTEER] else None, name=spec.name))
        else:
            systems.append(RegisteredSystem(spec.base, per_part, name=spec.name))
    return systems


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


@dataclass
class CVResult:
    """What :func:`run_cv` measured.

    ``systems``: per system, the figures of every fold (``per_fold``), their mean
    ± sd (``summary``) and, where the system has one, its ``config``; ``pooled``:
    full metrics of the out-of-fold predictions (kept in ``predictions``) against
    ``gold``; ``learning_curve``: mean ± sd per training-set size.
    """

    folds: int
    seed: int
    n_documents: int
    assignments: list[dict[str, Any]]
    systems: dict[str, dict[str, Any]]
    learning_curve: dict[str, list[dict[str, Any]]]
    gold: list[Document]
    pooled: dict[str, dict[str, Any]]
    predictions: dict[str, dict[str, list[Document] | None]]

    def summary(self) -> dict[str, Any]:
        """The JSON-able part (no documents, no pooled metrics): ``metrics.json``'s ``cv``."""
        return {
            "folds": self.folds,
            "seed": self.seed,
            "n_documents": self.n_documents,
            "assignments": self.assignments,
            "systems": self.systems,
            "learning_curve": self.learning_curve,
        }

    def lines(self) -> list[str]:
        """One line per system: NER (and RE) F1 mean ± sd over the folds."""
        out = []
        for name, data in self.systems.items():
            f1, re_f1 = data["summary"].get("ner_f1"), data["summary"].get("re_f1")
            line = f"{name}: NER F1 {f1['mean']:.3f} ± {f1['sd'] or 0:.3f}"
            if re_f1:
                line += f", RE F1 {re_f1['mean']:.3f} ± {re_f1['sd'] or 0:.3f}"
            out.append(line + f" over {self.folds} folds")
        return out


def _configs_json(system: System) -> dict[str, Any] | None:
    """A system's config values per part (``configs``), for the record; None for systems without one."""
    configs = getattr(system, "configs", None)
    if not configs:
        return None
    return {part: dataclasses.asdict(c) if dataclasses.is_dataclass(c) else c for part, c in configs.items()}


def _folder_name(name: str) -> str:
    """A work folder name for a system or variant name (``crf[c2=0.5]`` -> ``crf_c2=0.5_``)."""
    return re.sub(r"[^\w.=+-]", "_", name)


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
) -> CVResult:
    """Grouped K-fold CV of every system; mean ± sd per metric, pooled out-of-fold scores, learning curve.

    ``learning_curve`` lists training-set sizes (documents); within each fold the
    first n documents of a seeded shuffle of its training documents are used.
    ``progress(message)`` hears of each fit; by default a bar over every fit
    (:mod:`tradeie.progress`: a terminal only) shows the message, else it is logged.
    """
    from tradeie.data.splits import group_kfold
    from tradeie.progress import progress_bar

    docs = list(docs)
    if not docs:
        raise TradeieError("cross-validation: no documents", hint="check --gold / --dataset")
    if not systems:
        raise TradeieError("cross-validation: no systems to train", hint="pass --systems")
    by_id = {d.id: d for d in docs}
    folds = group_kfold(docs, k, seed)
    curve_names = set(curve_systems) if curve_systems is not None else {s.name for s in systems}
    sizes = {int(n) for n in learning_curve or ()}
    fits = sum(
        len(systems) + sum(1 for s in systems if s.name in curve_names for n in sizes if 1 <= n < len(train_ids))
        for train_ids, _ in folds
    )
    bar = progress_bar(f"cv: {len(folds)} folds", total=fits, unit="fit")
    say = progress or (lambda msg: bar.note(msg, log))
    own_tmp = work_dir is None
    root = Path(tempfile.mkdtemp(prefix="tradeie-cv-")) if own_tmp else Path(work_dir)
    per_fold: dict[str, list[dict[str, float]]] = {s.name: [] for s in systems}
    oof: dict[str, dict[str, Document]] = {s.name: {} for s in systems}
    oof_gold_ents: dict[str, dict[str, Document]] = {s.name: {} for s in systems}
    curve: dict[str, dict[int, list[dict[str, float]]]] = {s.name: {} for s in systems if s.name in curve_names}
    try:
        for f, (train_ids, test_ids) in enumerate(folds):
            train, test = [by_id[i] for i in train_ids], [by_id[i] for i in test_ids]
            for system in systems:
                say(f"fold {f + 1}/{len(folds)}: {system.name} on {len(train)} training, {len(test)} test documents")
                predictor = system.fit(train, root / f"fold{f}" / _folder_name(system.name))
                pred, pge = _predict(system, predictor, test)
                m = compute_metrics(test, pred, pred_gold_entities=pge, n_resamples=0)
                per_fold[system.name].append(fold_values(m, system.relations))
                oof[system.name].update({d.id: d for d in pred})
                if pge is not None:
                    oof_gold_ents[system.name].update({d.id: d for d in pge})
                bar.update()
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
                        bar.update,
                    )
    finally:
        bar.close()
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
    summaries = {}
    for system in systems:
        values = per_fold[system.name]
        keys = dict.fromkeys(k for v in values for k in v)
        summaries[system.name] = {
            "per_fold": values,
            "summary": {key: mean_sd([v[key] for v in values if key in v]) for key in keys},
        }
        config = _configs_json(system)
        if config is not None:
            summaries[system.name]["config"] = config
    return CVResult(
        folds=len(folds),
        seed=seed,
        n_documents=len(docs),
        assignments=[{"fold": f, "train": tr, "test": te} for f, (tr, te) in enumerate(folds)],
        systems=summaries,
        learning_curve={
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
        gold=gold,
        pooled=pooled,
        predictions=predictions,
    )


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
    advance: Callable[[], None] = lambda: None,
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
            predictor = system.fit(shuffled[:n], root / f"fold{fold}" / f"{_folder_name(system.name)}-n{n}")
        except TradeieError as exc:  # e.g. a subset without any relation to learn from
            log.warning("learning curve: %s with %d documents skipped (%s)", system.name, n, exc)
            advance()
            continue
        pred, pge = _predict(system, predictor, test)
        advance()
        values = fold_values(compute_metrics(test, pred, pred_gold_entities=pge, n_resamples=0), system.relations)
        out.setdefault(n, []).append({m: values[m] for m in CURVE_METRICS if m in values})
