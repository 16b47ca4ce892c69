"""``tradeie evaluate`` and ``tradeie cv`` as library calls: score, add baselines, write the report.

:func:`evaluate_model` scores a trained run, :func:`evaluate_predictions` any
predictions file, :func:`cross_validate` a list of systems (and config variants
of them) by grouped K-fold. Each writes one report folder
(:func:`tradeie.evaluation.report.write_report`) and returns a typed result
whose ``summary()`` is what the command prints. Every figure comes from
:func:`tradeie.evaluation.evaluate.evaluate_documents`; the gold documents from
:func:`tradeie.evaluation.sources.resolve_gold`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.evaluation.experiments import DEFAULT_NER_CONFIG, DEFAULT_RE_CONFIG, DEFAULT_SYSTEMS, CVResult
from tradeie.evaluation.report import all_systems, headline_markdown, report_line, write_report
from tradeie.evaluation.scores import BOOTSTRAP_SEED, DEFAULT_RESAMPLES
from tradeie.evaluation.sources import DEFAULT_DATASET, Gold, resolve_gold

log = logging.getLogger(__name__)

DEFAULT_EVAL_DIR = "eval"
#: Baselines ``evaluate --model`` compares a run with (saved in RUN/baselines/<kind>, else trained).
BASELINE_CHOICES = ("crf", "gazetteer")


@dataclass
class Evaluation:
    """One system's metrics, its baselines' metrics, the report folder and any model cards updated."""

    metrics: dict[str, Any]
    baselines: dict[str, dict[str, Any]]
    out: Path
    updated_cards: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        """The headline table (the system, then its baselines) and where the report is."""
        return headline_markdown(all_systems(self.metrics, self.baselines)) + report_line(self.out)


@dataclass
class CrossValidation:
    """A cross-validation's results and its report folder."""

    result: CVResult
    out: Path

    def summary(self) -> str:
        """One line per system (NER and RE F1, mean ± sd over folds) and where the report is."""
        return "\n".join([*self.result.lines(), report_line(self.out)])


def score_system(
    gold: list[Document],
    pred: list[Document],
    system: dict[str, Any],
    *,
    pred_gold_entities: list[Document] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """The metrics of ``pred`` against ``gold``, with ``system`` (name, source, relations) recorded in them."""
    from tradeie.evaluation.evaluate import evaluate_documents

    metrics = evaluate_documents(gold, pred, pred_gold_entities=pred_gold_entities, n_resamples=n_resamples, seed=seed)
    metrics["system"] = system
    return metrics


def file_baselines(
    gold: list[Document],
    files: Sequence[tuple[str, str]],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, dict[str, Any]]:
    """Metrics of other systems' predictions files, ``(name, path)`` each (``--baseline NAME=FILE``)."""
    from tradeie.evaluation.evaluate import load_predictions

    out = {}
    for name, path in files:
        pred = load_predictions(path)
        system = {"name": name, "predictions": path, "relations": any(d.relations for d in pred)}
        out[name] = score_system(gold, pred, system, n_resamples=n_resamples, seed=seed)
    return out


def run_baselines(
    run: Path,
    gold: list[Document],
    kinds: Sequence[str],
    dataset: str | Path | None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, dict[str, Any]]:
    """Metrics of the NER baselines ``kinds``: saved in ``run/baselines/<kind>``, else trained on the
    train split of ``dataset`` (less any gold document)."""
    from tradeie.evaluation.experiments import strip_annotations
    from tradeie.training.baselines import fit_baseline, load_baseline

    out, train = {}, None
    for kind in kinds:
        saved = run / "baselines" / kind
        if (saved / "baseline.json").exists():
            model, source = load_baseline(saved), str(saved)
        else:
            train = train or _training_split(dataset)
            gold_ids = {d.id for d in gold}
            model = fit_baseline(kind, [d for d in train.documents if d.id not in gold_ids])
            source = f"trained on {train.source}"
        pred = model.predict(strip_annotations(gold))
        system = {"name": kind, "source": source, "relations": False}
        out[kind] = score_system(gold, pred, system, n_resamples=n_resamples, seed=seed)
    return out


def _training_split(dataset: str | Path | None) -> Gold:
    """The train split the baselines learn from: of ``dataset``, else of dist/dataset (said in the log)."""
    if dataset is None:
        if not Path(DEFAULT_DATASET).exists():
            raise TradeieError(
                f"--baselines: no --dataset to train them on, and no {DEFAULT_DATASET} here",
                hint="pass --dataset DIR, or --baselines none",
            )
        log.info("evaluate: baselines trained on the train split of %s (no --dataset given)", DEFAULT_DATASET)
    return resolve_gold(dataset=dataset or DEFAULT_DATASET, split="train")


def _check_baselines(kinds: Sequence[str] | None) -> list[str]:
    kinds = [k for k in (BASELINE_CHOICES if kinds is None else kinds) if k != "none"]
    unknown = sorted(set(kinds) - set(BASELINE_CHOICES))
    if unknown:
        raise TradeieError(
            f"--baselines: unknown baseline(s) {', '.join(unknown)}",
            hint=f"choose from {', '.join(BASELINE_CHOICES)} or 'none'",
        )
    return kinds


def evaluate_model(
    run: str | Path,
    *,
    gold: str | Path | None = None,
    dataset: str | Path | None = None,
    split: str = "test",
    baselines: Sequence[str] | None = None,
    baseline_files: Sequence[tuple[str, str]] = (),
    update_card: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    out: str | Path | None = None,
    title: str | None = None,
) -> Evaluation:
    """Predict ``split`` of ``dataset`` (or the ``gold`` file instead) with a trained run and score it.

    Relations are also predicted from the gold entities when the run has ``re/``.
    ``baselines`` (default: crf and gazetteer; ``none`` for none) are scored beside it; ``update_card`` writes
    the metrics into the model-index of ``RUN/ner/README.md`` and ``RUN/re/README.md``.
    """
    from tradeie.evaluation.evaluate import strip_relations
    from tradeie.evaluation.experiments import load_run, strip_annotations
    from tradeie.evaluation.report import fill_model_card

    run = Path(run)
    kinds = _check_baselines(baselines)
    pipeline = load_run(run)
    scored = resolve_gold(gold, None if gold else dataset, split=split, default="dataset")
    docs = scored.documents
    pred = pipeline.predict_documents(strip_annotations(docs))
    has_re = getattr(pipeline, "relation", None) is not None
    pge = pipeline.predict_documents(strip_relations(docs), gold_entities=True) if has_re else None
    system = {
        "name": run.name,
        "model": str(run),
        "relations": has_re,
        "dataset": scored.dataset,
        "split": scored.split,
    }
    metrics = score_system(docs, pred, system, pred_gold_entities=pge, n_resamples=n_resamples, seed=seed)
    others = {
        **run_baselines(run, docs, kinds, dataset, n_resamples=n_resamples, seed=seed),
        **file_baselines(docs, baseline_files, n_resamples=n_resamples, seed=seed),
    }
    out = Path(out or Path(DEFAULT_EVAL_DIR) / run.name)
    title = title or f"{run.name} on {scored.source}"
    write_report(out, metrics, docs, pred, pred_gold_entities=pge, baselines=others, title=title)
    cards = []
    for task in ("ner", "re") if update_card else ():
        readme = run / task / "README.md"
        if readme.exists():
            fill_model_card(
                readme,
                metrics,
                dataset_name=str(gold or scored.dataset),
                split=split if not gold else "gold",
                tasks=(task,),
            )
            cards.append(readme)
    return Evaluation(metrics, others, out, cards)


def evaluate_predictions(
    predictions: str | Path,
    gold: str | Path,
    *,
    predictions_gold_entities: str | Path | None = None,
    baseline_files: Sequence[tuple[str, str]] = (),
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    out: str | Path | None = None,
    title: str | None = None,
) -> Evaluation:
    """Score a predictions file (``tradeie predict`` JSONL or its Label Studio JSON) against a gold file.

    ``predictions_gold_entities``: relations predicted from the gold entities, scored as such.
    """
    from tradeie.evaluation.evaluate import load_predictions

    docs = resolve_gold(gold).documents
    pred = load_predictions(predictions)
    pge = load_predictions(predictions_gold_entities) if predictions_gold_entities else None
    name = Path(predictions).stem
    system = {
        "name": name,
        "predictions": str(predictions),
        "gold": str(gold),
        "relations": pge is not None or any(d.relations for d in pred),
    }
    metrics = score_system(docs, pred, system, pred_gold_entities=pge, n_resamples=n_resamples, seed=seed)
    others = file_baselines(docs, baseline_files, n_resamples=n_resamples, seed=seed)
    out = Path(out or Path(DEFAULT_EVAL_DIR) / name)
    write_report(out, metrics, docs, pred, pred_gold_entities=pge, baselines=others, title=title)
    return Evaluation(metrics, others, out)


def cross_validate(
    systems: Sequence[str] | None = None,
    *,
    gold: str | Path | None = None,
    dataset: str | Path | None = None,
    corpus: str | Path | None = None,
    exclude_splits: Sequence[str] = (),
    folds: int | None = None,
    overrides: Sequence[str] = (),
    ner_config: str | Path = DEFAULT_NER_CONFIG,
    re_config: str | Path = DEFAULT_RE_CONFIG,
    learning_curve: Sequence[int] | None = None,
    curve_systems: Sequence[str] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    out: str | Path | None = None,
    title: str | None = None,
) -> CrossValidation:
    """Grouped K-fold cross-validation of ``systems`` (names or variants, see
    :func:`~tradeie.evaluation.experiments.make_systems`; default: model, crf,
    gazetteer) on the ``gold`` file, the
    ``dataset`` folder or, given neither, annotations/gold with the corpus.

    ``folds`` defaults to one per near-duplicate group. The report holds the first
    system's pooled out-of-fold metrics, the others' as baselines, and the table of
    every system's mean ± sd per metric: with variants, an ablation table.
    """
    from tradeie.data.splits import groups_of
    from tradeie.evaluation.experiments import make_systems, run_cv

    chosen = make_systems(systems or DEFAULT_SYSTEMS, overrides, ner_config=ner_config, re_config=re_config, seed=seed)
    names = [s.name for s in chosen]
    unknown = sorted(set(curve_systems or ()) - set(names))
    if unknown:
        raise TradeieError(
            f"--curve-systems: {', '.join(unknown)} not in --systems", hint=f"choose from {', '.join(names)}"
        )
    docs = resolve_gold(
        gold, dataset, exclude_splits=exclude_splits, corpus=corpus, grouped=True, default="annotations", command="cv"
    ).documents
    if folds is None:
        folds = len(groups_of(docs))
        log.info("cv: %d folds, one per near-duplicate group (leave one group out)", folds)
    result = run_cv(
        docs,
        chosen,
        folds,
        seed=seed,
        learning_curve=learning_curve,
        curve_systems=curve_systems,
        n_resamples=n_resamples,
    )
    main = names[0]
    preds = result.predictions[main]
    out = Path(out or Path(DEFAULT_EVAL_DIR) / f"cv-{folds}fold")
    write_report(
        out,
        result.pooled[main],
        result.gold,
        preds["entities_and_relations"],
        pred_gold_entities=preds["gold_entities"],
        baselines={n: m for n, m in result.pooled.items() if n != main},
        cv=result.summary(),
        title=title or f"{folds}-fold grouped cross-validation ({main}, out-of-fold)",
    )
    return CrossValidation(result, out)
