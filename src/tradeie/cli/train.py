"""``tradeie train ner|re|baseline|system``: parse, call :mod:`tradeie.training.runs`, print."""

from __future__ import annotations

import argparse

from tradeie.cli.args import folder_output_help, output_option, refuse_stdout
from tradeie.training.runs import SUBFOLDERS
from tradeie.training.runs import load_splits  # noqa: F401  (tradeie.cli.compare reads the splits through here)

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
        output_option(
            cmd,
            dest="output",
            default=None,
            help=folder_output_help(
                f"run folder (default: training/runs/<run_name>); the model goes to its {SUBFOLDERS[task]}/ subfolder"
            ),
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
    output_option(
        sys_cmd,
        dest="output",
        default="training/runs/demo",
        help=folder_output_help("run folder; the system goes to its ner/ or re/ subfolder", "training/runs/demo"),
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


def run_train_system(args: argparse.Namespace) -> int:
    from tradeie.training.runs import describe_systems, train_system

    if args.list or not args.name:
        print(describe_systems(with_config=args.list))
        return 0
    refuse_stdout(args.output, "--output", "a run")
    out = train_system(args.name, args.dataset, args.output, overrides=args.overrides, overwrite=args.overwrite)
    print(f"saved {args.name} ({out.name}) to {out}")
    return 0


def run_train(args: argparse.Namespace) -> int:
    from tradeie.training.common import is_main_process
    from tradeie.training.config import CONFIG_CLASSES, describe
    from tradeie.training.runs import summary, train_task

    if args.show_config:
        print(describe(CONFIG_CLASSES[args.task]))
        return 0
    refuse_stdout(args.output, "--output", "a run")
    out = train_task(
        args.task,
        args.config,
        args.overrides,
        args.dataset,
        args.output,
        overwrite=args.overwrite,
        resume=getattr(args, "resume", False),
    )
    if is_main_process():
        print(summary(out, args.task))
    return 0
