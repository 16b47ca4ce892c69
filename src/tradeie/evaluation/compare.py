"""Systems side by side: train each on the dataset's train split, score one split, one report.

Every figure comes from :func:`tradeie.evaluation.evaluate.evaluate_documents` (the one
scorer); this module only times the systems, collects their metrics and
renders the tables (``compare.md``, ``compare.json``).
"""

from __future__ import annotations

import fnmatch
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.evaluation.evaluate import evaluate_documents, strip_relations
from tradeie.evaluation.experiments import parse_overrides, strip_annotations, system_config
from tradeie.io.atomic import atomic_directory, write_json_atomic, write_text_atomic
from tradeie.progress import progress_bar
from tradeie.schema import ENTITY_LABELS, RELATION_LABELS

log = logging.getLogger(__name__)


@dataclass
class SystemRun:
    """One system's timings and metrics on the scored split."""

    name: str
    task: str
    fit_seconds: float
    predict_seconds: float
    metrics: dict[str, Any]
    ner_system: str | None = None


@dataclass
class Comparison:
    """All runs on one split, with the documents they were measured on."""

    split: str
    documents: list[str]
    train_documents: list[str]
    runs: list[SystemRun] = field(default_factory=list)


def _fit(name: str, train: list[Document], dev: list[Document] | None, overrides: dict[str, list[str]]):
    from tradeie.systems.base import system_class

    system = system_class(name)(system_config(name, overrides.get(name, ())))
    start = time.perf_counter()
    system.fit(train, dev)
    return system, time.perf_counter() - start


def compare_systems(
    splits: dict[str, list[Document]],
    ner_systems: Sequence[str],
    re_systems: Sequence[str] = (),
    *,
    split: str = "validation",
    ner_for_re: str | None = None,
    n_resamples: int = 1000,
    seed: int = 13,
    overrides: dict[str, list[str]] | None = None,
    origins: Sequence[str] = (),
    documents: Sequence[str] = (),
) -> Comparison:
    """Fit every system on ``splits["train"]`` and score it on ``splits[split]``
    (only its documents of the given ``origins`` and whose ids match one of the
    glob patterns ``documents``, when any are given).

    Relation systems are scored with gold entities and end to end on the
    entities of ``ner_for_re`` (default: the first NER system).
    """
    overrides = overrides or {}
    unused = sorted(set(overrides) - {*ner_systems, *re_systems})
    if unused:
        raise TradeieError(
            f"--set {unused[0]}.{overrides[unused[0]][0]}: {unused[0]!r} is not among the compared systems",
            hint="--set SYSTEM.KEY=VALUE names a system of --ner or --re",
        )
    train, gold = splits.get("train") or [], splits.get(split) or []
    if origins:
        gold = [d for d in gold if d.meta.get("origin") in origins]
    if documents:
        gold = [d for d in gold if any(fnmatch.fnmatchcase(d.id, pattern) for pattern in documents)]
    if not train:
        raise TradeieError("the train split is empty", hint="rebuild the dataset")
    if not gold:
        wanted = [f"of origin {', '.join(origins)}"] if origins else []
        wanted += [f"matching {', '.join(documents)}"] if documents else []
        what = f"the {split} split" + (f" has no document {' and '.join(wanted)}" if wanted else " is empty")
        raise TradeieError(what, hint="choose another --split, --origin or --documents, or rebuild the dataset")
    dev = (splits.get("validation") or None) if split != "validation" else None
    result = Comparison(split=split, documents=[d.id for d in gold], train_documents=[d.id for d in train])
    bare = strip_annotations(gold)
    ner_predictions: dict[str, list[Document]] = {}
    bar = progress_bar(f"compare on {split}", total=len(ner_systems) + len(re_systems), unit="system")
    with bar:
        for name in ner_systems:
            bar.note(f"{name}: fit and predict")
            system, fit_s = _fit(name, train, dev, overrides)
            start = time.perf_counter()
            pred = system.predict(bare)
            predict_s = time.perf_counter() - start
            ner_predictions[name] = pred
            metrics = evaluate_documents(gold, pred, n_resamples=n_resamples, seed=seed)
            result.runs.append(SystemRun(name, "ner", fit_s, predict_s, metrics))
            log.info("%s: fit %.1f s, predict %.1f s", name, fit_s, predict_s)
            bar.update()
        ner_name = ner_for_re or (ner_systems[0] if ner_systems else None)
        for name in re_systems:
            bar.note(f"{name}: fit and predict")
            system, fit_s = _fit(name, train, dev, overrides)
            start = time.perf_counter()
            with_gold_entities = system.predict(strip_relations(gold))
            predict_s = time.perf_counter() - start
            entities = ner_predictions.get(ner_name) if ner_name else None
            end_to_end = system.predict(entities) if entities is not None else with_gold_entities
            metrics = evaluate_documents(
                gold, end_to_end, pred_gold_entities=with_gold_entities, n_resamples=n_resamples, seed=seed
            )
            result.runs.append(SystemRun(name, "re", fit_s, predict_s, metrics, ner_system=ner_name))
            bar.update()
    return result


def compare_dataset(
    dataset: str | Path,
    ner_systems: Sequence[str],
    re_systems: Sequence[str] = (),
    *,
    out: str | Path,
    split: str = "validation",
    ner_for_re: str | None = None,
    n_resamples: int = 1000,
    overrides: Sequence[str] = (),
    origins: Sequence[str] = (),
    documents: Sequence[str] = (),
) -> Comparison:
    """:func:`compare_systems` on a dataset folder with ``--set SYSTEM.KEY=VALUE`` overrides;
    ``compare.md`` and ``compare.json`` written to ``out``."""
    from tradeie.evaluation.sources import dataset_splits

    comp = compare_systems(
        dataset_splits(dataset),
        ner_systems,
        re_systems,
        split=split,
        ner_for_re=ner_for_re,
        n_resamples=n_resamples,
        overrides=parse_overrides(overrides),
        origins=origins,
        documents=documents,
    )
    write_comparison(comp, out)
    return comp


# --------------------------------------------------------------------------- rendering


def _f(cell: dict[str, Any] | None, stat: str = "f1", ci: bool = False) -> str:
    if not cell:
        return "–"
    text = f"{cell[stat]:.3f}"
    bounds = (cell.get("ci") or {}).get(stat)
    if ci and bounds and None not in bounds:
        text += f" [{bounds[0]:.2f}, {bounds[1]:.2f}]"
    return text


#: Columns of the NER and relation tables between the system name and its timings.
NER_COLUMNS = (
    "strict micro F1 [95% CI]",
    "P",
    "R",
    "partial F1 [95% CI]",
    *[f"{lab} strict / partial" for lab in ENTITY_LABELS],
)
RE_COLUMNS = (
    "mention-pair relaxed F1 [CI]",
    "fact F1 [CI]",
    "gold ents: mention relaxed F1",
    "gold ents: fact F1 [CI]",
    *[f"{lab} (relaxed)" for lab in RELATION_LABELS],
)


def ner_cells(run: SystemRun) -> list[str]:
    """The :data:`NER_COLUMNS` cells of one run."""
    m = run.metrics["ner"]
    strict, partial = m["seqeval"]["strict"], m["nervaluate"]["partial"]
    cells = [
        _f(strict["micro"], ci=True),
        _f(strict["micro"], "precision"),
        _f(strict["micro"], "recall"),
        _f(partial["micro"], ci=True),
    ]
    return cells + [
        f"{_f(strict['per_label'].get(lab))} / {_f(partial['per_label'].get(lab))}" for lab in ENTITY_LABELS
    ]


def re_cells(run: SystemRun) -> list[str]:
    """The :data:`RE_COLUMNS` cells of one run."""
    re = run.metrics["re"]
    e2e, gold = re.get("end_to_end", {}), re.get("gold_entities", {})
    cells = [
        _f(e2e.get("relaxed", {}).get("micro"), ci=True),
        _f(e2e.get("facts", {}).get("micro"), ci=True),
        _f(gold.get("relaxed", {}).get("micro")),
        _f(gold.get("facts", {}).get("micro"), ci=True),
    ]
    return cells + [_f(e2e.get("relaxed", {}).get("per_label", {}).get(lab)) for lab in RELATION_LABELS]


def _runs_table(columns: Sequence[str], runs: list[SystemRun], cells) -> str:
    """One row per run: its name, ``cells(run)`` under ``columns``, fit and predict seconds."""
    rows = [[r.name, *cells(r), f"{r.fit_seconds:.1f}", f"{r.predict_seconds:.1f}"] for r in runs]
    return _table(["system", *columns, "fit s", "predict s"], rows)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def error_counts(run: SystemRun) -> dict[str, dict[str, int]]:
    """NER errors per gold label and kind (boundary, type, missed, spurious, ...)."""
    return run.metrics["errors"]["ner_by_gold_label"]


def render_markdown(comp: Comparison, title: str = "Systems compared") -> str:
    counts = comp.runs[0].metrics["counts"] if comp.runs else {}
    out = [
        f"# {title}",
        "",
        f"Trained on the train split ({len(comp.train_documents)} documents); scored on the **{comp.split}** "
        f"split: {len(comp.documents)} documents ({', '.join(comp.documents)}), "
        f"{counts.get('gold_entities', 0)} gold entities, {counts.get('gold_relations', 0)} gold relations. "
        "Intervals: 95% percentile bootstrap over documents.",
        "",
    ]
    ner = [r for r in comp.runs if r.task == "ner"]
    if ner:
        out += [
            "## NER",
            "",
            _runs_table(NER_COLUMNS, ner, ner_cells),
            "",
        ]
        kinds = sorted({k for r in ner for per in error_counts(r).values() for k in per})
        rows = [
            [r.name, lab, *[str(error_counts(r).get(lab, {}).get(k, 0)) for k in kinds]]
            for r in ner
            for lab in ENTITY_LABELS
        ]
        out += [
            "### NER errors (per label: boundary = overlapping span of the right type, type = "
            "same span with another label, missed, spurious)",
            "",
            _table(["system", "label", *kinds], rows),
            "",
        ]
    rel = [r for r in comp.runs if r.task == "re"]
    if rel:
        out += [
            "## Relations",
            "",
            f"End to end on the entities predicted by `{rel[0].ner_system}`; 'gold' columns use the gold entities. "
            "Mention-pair scores count a relation as right when both arguments overlap the gold ones (relaxed); "
            "fact scores compare (head referent, tail referent, label) sets per document.",
            "",
            _runs_table(RE_COLUMNS, rel, re_cells),
            "",
        ]
    return "\n".join(out)


def to_json(comp: Comparison) -> dict[str, Any]:
    return {
        "split": comp.split,
        "documents": comp.documents,
        "train_documents": comp.train_documents,
        "runs": [
            {
                "name": r.name,
                "task": r.task,
                "fit_seconds": round(r.fit_seconds, 3),
                "predict_seconds": round(r.predict_seconds, 3),
                "ner_system": r.ner_system,
                "headline": r.metrics["headline"],
                "ner": {k: r.metrics["ner"][k] for k in ("seqeval", "nervaluate")},
                "re": r.metrics["re"],
                "errors": {k: v for k, v in r.metrics["errors"].items() if k != "rows"},
                "counts": r.metrics["counts"],
            }
            for r in comp.runs
        ],
    }


def write_comparison(comp: Comparison, out_dir: str | Path, title: str | None = None) -> Path:
    """``compare.md`` and ``compare.json`` in ``out_dir`` (replaced atomically)."""
    out_dir = Path(out_dir)
    with atomic_directory(out_dir) as tmp:
        write_text_atomic(tmp / "compare.md", render_markdown(comp, title or f"Systems compared ({comp.split})"))
        write_json_atomic(tmp / "compare.json", to_json(comp))
    return out_dir
