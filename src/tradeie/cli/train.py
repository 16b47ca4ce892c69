"""``tradeie train ner|re|baseline``: fine-tune on the Hub-ready dataset folder."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

log = logging.getLogger("tradeie.train")

#: The subfolder of the run folder each ``train`` command writes.
SUBFOLDERS = {"ner": "ner", "re": "re", "baseline": "baselines"}
DEFAULT_CONFIGS = {"ner": "training/ner.toml", "re": "training/re.toml", "baseline": "training/baseline.toml"}


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser(
        "train",
        help="train the NER model, the relation model, or the baselines",
        description="Fine-tune on the dataset folder written by `tradeie dataset build`. "
        "Runs unchanged under torchrun / accelerate launch.",
    )
    cmds = group.add_subparsers(dest="train_command", metavar="MODEL", required=True)
    helps = {
        "ner": "token-classification NER model (AutoModelForTokenClassification + Trainer)",
        "re": "relation classifier with typed entity markers",
        "baseline": "sklearn-crfsuite CRF and gazetteer NER baselines",
    }
    for task, text in helps.items():
        cmd = cmds.add_parser(task, help=text, description=text)
        cmd.add_argument(
            "--config", default=DEFAULT_CONFIGS[task], help="training config, .toml or .yaml (default: %(default)s)"
        )
        cmd.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config value, e.g. --set epochs=3 (repeatable)",
        )
        cmd.add_argument(
            "--dataset",
            default="dist/dataset",
            help="Hub-ready dataset folder from `tradeie dataset build --out` (default: %(default)s)",
        )
        cmd.add_argument(
            "--output",
            default=None,
            help="run folder (default: training/runs/<run_name>); the model goes to its "
            f"{'baselines' if task == 'baseline' else task}/ subfolder",
        )
        cmd.add_argument(
            "--show-config", action="store_true", help="print every config field with its help text and exit"
        )
        _run_folder_flags(cmd, resume=task != "baseline")
        cmd.set_defaults(func=run_train, task=task)
    sys_cmd = cmds.add_parser(
        "system",
        help="any registered system (rules, crf, crf-rules, transformer, re-rules)",
        description="Fit one system on the dataset's train split (validation for model "
        "selection inside the system) and save it to RUN/ner or RUN/re.",
    )
    sys_cmd.add_argument("name", help="system name (`tradeie train system --list` lists them)", nargs="?")
    sys_cmd.add_argument("--list", action="store_true", help="list the systems and their config fields")
    sys_cmd.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set c1=0.1 (repeatable)",
    )
    sys_cmd.add_argument("--dataset", default="dist/dataset", help="dataset folder (default: %(default)s)")
    sys_cmd.add_argument(
        "--output",
        default="training/runs/demo",
        help="run folder; the system goes to its ner/ or re/ subfolder (default: %(default)s)",
    )
    _run_folder_flags(sys_cmd, resume=False)
    sys_cmd.set_defaults(func=run_train_system)


def _run_folder_flags(cmd: argparse.ArgumentParser, resume: bool) -> None:
    cmd.add_argument(
        "--overwrite", action="store_true", help="replace the model folder if it already exists (default: refuse)"
    )
    if resume:
        cmd.add_argument(
            "--resume",
            action="store_true",
            help="continue an interrupted run from its last checkpoint (same config and --output)",
        )


def check_target(target: Path, overwrite: bool) -> None:
    """Refuse to replace an existing model folder unless ``--overwrite`` was given."""
    from tradeie.errors import TradeieError

    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not overwrite:
        raise TradeieError(
            f"{target}: already exists (a trained model); refusing to replace it",
            hint="pass --overwrite to replace it, or choose another --output",
        )


def run_train_system(args: argparse.Namespace) -> int:
    from tradeie.errors import TradeieError
    from tradeie.io.atomic import atomic_directory
    from tradeie.systems.base import system_class, system_names
    from tradeie.training.config import describe, overrides_config

    if args.list or not args.name:
        for name in system_names():
            cls = system_class(name)
            print(f"{name} ({cls.task}): {(cls.__doc__ or '').strip().splitlines()[0]}")
            if args.list:
                print(describe(cls.config_class))
        return 0
    cls = system_class(args.name)
    check_target(Path(args.output) / cls.task, args.overwrite)
    system = cls()
    if args.overrides:
        system = cls(overrides_config(cls.config_class, args.overrides, args.name, base=system.config))
    splits = load_splits(args.dataset)
    if not splits["train"]:
        raise TradeieError(f"{args.dataset}: the train split is empty", hint="rebuild the dataset")
    system.fit(splits["train"], splits["validation"] or None)
    target = Path(args.output) / cls.task
    with atomic_directory(target) as tmp:
        system.save(tmp)
    print(f"saved {args.name} ({cls.task}) to {target}")
    return 0


def load_splits(dataset_dir: str | Path) -> dict[str, list]:
    """Documents of each split of the dataset folder's ``documents`` config."""
    from tradeie.data.dataset import documents_from_dataset, load_hub_folder

    docs = documents_from_dataset(load_hub_folder(dataset_dir, "documents"))
    splits: dict[str, list] = {"train": [], "validation": [], "test": []}
    for doc in docs:
        splits.setdefault(doc.meta.get("split") or "train", []).append(doc)
    return splits


def run_train(args: argparse.Namespace) -> int:
    from tradeie.errors import TradeieError
    from tradeie.training.config import CONFIG_CLASSES, describe, load_config

    if args.show_config:
        print(describe(CONFIG_CLASSES[args.task]))
        return 0
    config = load_config(args.config, args.overrides, task=args.task)
    run_dir = Path(args.output or Path("training/runs") / config.run_name)
    check_target(run_dir / SUBFOLDERS[args.task], args.overwrite)
    splits = load_splits(args.dataset)
    if not splits["train"]:
        raise TradeieError(f"{args.dataset}: the train split is empty", hint="rebuild the dataset")
    dataset_name = str(args.dataset)
    train, val, test = splits["train"], splits["validation"], splits["test"]
    log.info("%s: train %d, validation %d, test %d documents", args.dataset, len(train), len(val), len(test))
    from tradeie.training.common import resuming

    if args.task == "ner":
        from tradeie.training.ner import fit_ner_dataset

        with resuming(args.resume):
            out = fit_ner_dataset(args.dataset, config, run_dir / "ner", documents=splits)
    elif args.task == "re":
        from tradeie.training.relation import fit_re

        with resuming(args.resume):
            out = fit_re(
                train, val, config, run_dir / "re", test_docs=test, ner_dir=run_dir / "ner", dataset_name=dataset_name
            )
    else:
        from tradeie.training.baselines import train_baselines

        out = train_baselines(train, val, config, run_dir / "baselines", test_docs=test)
    from tradeie.training.common import is_main_process

    if is_main_process():
        print(summary(out, args.task))
    return 0


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
