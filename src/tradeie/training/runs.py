"""Run folders: what ``tradeie train`` does between parsing its arguments and printing.

A run folder (``training/runs/<run_name>`` by default) holds ``ner/``,
``re/`` and ``baselines/``. :func:`train_task` checks the target, reads the
dataset folder's splits and calls the trainer (:func:`~tradeie.training.ner.fit_ner_dataset`,
:func:`~tradeie.training.relation.fit_re_dataset`,
:func:`~tradeie.training.baselines.train_baselines`); :func:`train_system`
does the same for any registered system; :func:`summary` reads the saved
``metrics.json`` back as the lines the command prints.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tradeie.errors import TradeieError

log = logging.getLogger(__name__)

#: The subfolder of the run folder each ``train`` command writes.
SUBFOLDERS = {"ner": "ner", "re": "re", "baseline": "baselines"}
#: Where run folders go when no output is given (``training/runs/<run_name>``).
RUNS_DIR = Path("training/runs")


def check_target(target: Path, overwrite: bool) -> None:
    """Refuse to replace an existing model folder unless ``overwrite`` (``--overwrite``)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not overwrite:
        raise TradeieError(
            f"{target}: already exists (a trained model); refusing to replace it",
            hint="pass --overwrite to replace it, or choose another --output",
        )


def load_splits(dataset_dir: str | Path) -> dict[str, list[Any]]:
    """Documents of each split of the dataset folder's ``documents`` config (train, validation, test first)."""
    from tradeie.data.dataset import documents_from_dataset, load_hub_folder

    docs = documents_from_dataset(load_hub_folder(dataset_dir, "documents"))
    splits: dict[str, list] = {"train": [], "validation": [], "test": []}
    for doc in docs:
        splits.setdefault(doc.meta.get("split") or "train", []).append(doc)
    return splits


def _training_splits(dataset_dir: str | Path) -> dict[str, list[Any]]:
    """:func:`load_splits`, refusing a dataset whose train split is empty."""
    splits = load_splits(dataset_dir)
    if not splits["train"]:
        raise TradeieError(f"{dataset_dir}: the train split is empty", hint="rebuild the dataset")
    return splits


def train_task(
    task: str,
    config_file: str | Path,
    overrides: Sequence[str],
    dataset_dir: str | Path,
    output: str | Path | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
) -> Path:
    """``tradeie train ner|re|baseline``: train from the dataset folder into the run folder; the model folder.

    The config is ``config_file`` with ``overrides`` (``key=value``); the run
    folder is ``output`` (default ``training/runs/<run_name>``). The relation
    model is also scored end to end with the run's ``ner/`` model when there is one.
    """
    from tradeie.training.common import resuming
    from tradeie.training.config import load_config

    config = load_config(config_file, list(overrides), task=task)
    run_dir = Path(output) if output else RUNS_DIR / config.run_name
    target = run_dir / SUBFOLDERS[task]
    check_target(target, overwrite)
    splits = _training_splits(dataset_dir)
    log.info(
        "%s: train %d, validation %d, test %d documents",
        dataset_dir,
        len(splits["train"]),
        len(splits["validation"]),
        len(splits["test"]),
    )
    if task == "baseline":
        from tradeie.training.baselines import train_baselines

        return train_baselines(splits["train"], splits["validation"], config, target, test_docs=splits["test"])
    with resuming(resume):
        if task == "ner":
            from tradeie.training.ner import fit_ner_dataset

            return fit_ner_dataset(dataset_dir, config, target, documents=splits)
        from tradeie.training.relation import fit_re_dataset

        return fit_re_dataset(dataset_dir, config, target, documents=splits, ner_dir=run_dir / "ner")


def train_system(
    name: str, dataset_dir: str | Path, output: str | Path, *, overrides: Sequence[str] = (), overwrite: bool = False
) -> Path:
    """``tradeie train system NAME``: fit a registered system on the train split (validation for its own
    model selection) and save it to ``output/ner`` or ``output/re``; that folder."""
    from tradeie.io.atomic import atomic_directory
    from tradeie.systems.base import system_class
    from tradeie.training.config import overrides_config

    cls = system_class(name)
    target = Path(output) / cls.task
    check_target(target, overwrite)
    system = cls()
    if overrides:
        system = cls(overrides_config(cls.config_class, list(overrides), name, base=system.config))
    splits = _training_splits(dataset_dir)
    system.fit(splits["train"], splits["validation"] or None)
    with atomic_directory(target) as tmp:
        system.save(tmp)
    return target


def describe_systems(with_config: bool = False) -> str:
    """One line per registered system (name, task, what it is), with its config fields ``with_config``."""
    from tradeie.systems.base import system_class, system_names
    from tradeie.training.config import describe

    lines = []
    for name in system_names():
        cls = system_class(name)
        lines.append(f"{name} ({cls.task}): {(cls.__doc__ or '').strip().splitlines()[0]}")
        if with_config:
            lines.append(describe(cls.config_class))
    return "\n".join(lines)


def summary(out: Path, task: str) -> str:
    """One line per scored split, read back from the saved metrics.json."""
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    lines = [f"saved {task} to {out}"]
    if task == "baseline":
        for kind in metrics["config"]["kinds"]:
            for key, scores in (metrics.get(kind) or {}).items():
                lines.append(
                    f"  {kind} baseline, {key.replace('eval', 'validation')}: P {scores['precision']:.3f} "
                    f"R {scores['recall']:.3f} F1 {scores['f1']:.3f} (support {scores['support']})"
                )
        return "\n".join(lines)
    lines.append(
        f"  training time {metrics['train_seconds']:.1f} s, seeds {[s['seed'] for s in metrics['seeds']]}"
        f" (kept {metrics['best_seed']})"
    )
    timing = metrics.get("timing")
    if timing and timing.get("epochs"):
        shares = timing["shares"]
        lines.append(
            f"  per epoch: evaluation {timing['eval_seconds_per_epoch']:.2f} s, checkpoint "
            f"{timing['save_seconds_per_epoch']:.2f} s ({shares['eval']:.0%} and {shares['save']:.0%} of the total)"
        )
    for key in ("eval", "eval_end_to_end", "test", "test_end_to_end"):
        scores = metrics.get(key)
        if scores:
            name = key.replace("eval", "validation").replace("_end_to_end", " (predicted entities)")
            if task == "re" and "end_to_end" not in key:
                name += " (gold entities)"
            lines.append(
                f"  {name}: P {scores['precision']:.3f} R {scores['recall']:.3f} "
                f"F1 {scores['f1']:.3f} (support {scores['support']})"
            )
    return "\n".join(lines)
