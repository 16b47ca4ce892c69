"""``tradeie evaluate`` (a trained run or any predictions file) and ``tradeie cv`` (grouped K-fold)."""

from __future__ import annotations

import argparse

from tradeie.cli.args import (
    STDOUT,
    add_set_argument,
    csv_list,
    folder_or_stdout,
    non_negative_int,
    output_option,
    positive_int,
    status_print,
)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated document counts, e.g. 1,2,3")
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes must be positive integers")
    return sizes


def _named_file(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=FILE, e.g. crf=eval/crf-preds.jsonl")
    return name, path


def _common(cmd: argparse.ArgumentParser) -> None:
    output_option(
        cmd,
        default=None,
        help="report folder, replaced atomically (default: eval/<name>); - writes metrics.json alone to "
        "standard output (the summary to standard error)",
    )
    cmd.add_argument(
        "--resamples",
        type=non_negative_int,
        default=1000,
        help="bootstrap resamples over documents for the 95%% intervals (default: %(default)s)",
    )
    cmd.add_argument("--seed", type=int, default=13, help="bootstrap (and fold) seed (default: %(default)s)")
    cmd.add_argument("--title", default=None, help="report title (default: the output folder name)")


def register(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser(
        "evaluate",
        help="score a trained run or a predictions file against gold; write the report",
        description="Either --model RUN (predicts the dataset split itself, with the baselines for comparison) "
        "or --predictions FILE --gold FILE (scores any system's output). Writes metrics.json, "
        "errors.csv, report.md, report.html and PNG plots to --out.",
    )
    src = ev.add_argument_group("what to score")
    src.add_argument("--model", default=None, help="run folder with ner/ (and re/), e.g. training/runs/demo")
    src.add_argument(
        "--dataset",
        default=None,
        help="dataset folder from `tradeie dataset build` (with --model: its --split is scored unless --gold "
        "is given, and its train split trains missing baselines; default: dist/dataset, said in the log)",
    )
    src.add_argument("--split", default="test", help="dataset split to score (default: %(default)s)")
    src.add_argument(
        "--predictions", default=None, help="predictions JSONL from `tradeie predict` (or its Label Studio JSON)"
    )
    src.add_argument(
        "--predictions-gold-entities",
        default=None,
        help="optional relation predictions made from the gold entities (JSONL)",
    )
    src.add_argument(
        "--gold",
        default=None,
        help="gold JSONL or Label Studio JSON export (required with --predictions; "
        "with --model it replaces the dataset split)",
    )
    src.add_argument(
        "--baselines",
        type=csv_list,
        default=None,
        help="with --model: baselines to compare against, loaded from RUN/baselines/<kind> or "
        "trained on the dataset's train split; 'none' for none (default: crf,gazetteer)",
    )
    src.add_argument(
        "--baseline",
        dest="baseline_files",
        type=_named_file,
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="another system's predictions to compare against (repeatable)",
    )
    src.add_argument(
        "--update-card",
        action="store_true",
        help="with --model: fill the model-index of RUN/ner/README.md (and re/) from the metrics",
    )
    _common(ev)
    ev.set_defaults(func=run_evaluate)

    cv = sub.add_parser(
        "cv",
        help="grouped K-fold cross-validation of the model and baselines, with a learning curve",
        description="Train every system on K-1 folds and test on the held-out fold (near-duplicate groups "
        "kept together); report mean +- sd per metric, the pooled out-of-fold scores with "
        "bootstrap intervals, and optionally F1 against the number of training documents.",
    )
    cv.add_argument(
        "--folds",
        type=positive_int,
        default=None,
        help="number of folds K (default: one fold per near-duplicate group)",
    )
    cv.add_argument(
        "--gold",
        default=None,
        help="gold JSONL / Label Studio export (with neither --gold nor --dataset: annotations/gold joined "
        "with the corpus, said in the log)",
    )
    cv.add_argument("--dataset", default=None, help="or: every split of this dataset folder")
    cv.add_argument(
        "--corpus",
        default=None,
        help="corpus JSONL giving near-duplicate groups and sentences to the --gold documents "
        "(default for annotations/gold: corpus/documents.jsonl)",
    )
    cv.add_argument(
        "--systems",
        type=csv_list,
        default=None,
        metavar="SYSTEMS",
        help="systems to cross-validate, comma-separated: model (the transformers of --ner-config/--re-config), "
        "gazetteer, any registered system (crf, rules, ...) or NER+RE pair (crf+re-rules); NAME[KEY=VALUE,...] "
        "is a config variant of one, its own row in the table (an ablation): 'crf,crf[c2=0.5]', "
        "'crf+re-rules[crf.c1=0.2]', 'model[ner.epochs=3]' (quote it for the shell; default: model,crf,gazetteer)",
    )
    cv.add_argument(
        "--exclude-splits",
        type=csv_list,
        default=[],
        metavar="SPLITS",
        help="with --dataset: leave these splits out, e.g. test when choosing a model",
    )
    cv.add_argument("--ner-config", default="training/ner.toml", help="NER config (default: %(default)s)")
    cv.add_argument(
        "--re-config",
        default="training/re.toml",
        help="relation config; 'none' to cross-validate NER only (default: %(default)s)",
    )
    add_set_argument(
        cv,
        "override a config value of every system with that part, e.g. --set crf.c1=0.1, or --set ner.epochs=3 "
        "--set re.epochs=5 for model (repeatable; a variant's own values come after)",
    )
    cv.add_argument(
        "--learning-curve",
        type=_sizes,
        default=None,
        metavar="SIZES",
        help="also train on these numbers of training documents per fold, e.g. 1,2,3",
    )
    cv.add_argument(
        "--curve-systems",
        type=csv_list,
        default=None,
        help="systems (or variants) of --systems for the learning curve (default: all)",
    )
    _common(cv)
    cv.set_defaults(func=run_cv_command)


def run_evaluate(args: argparse.Namespace) -> int:
    from tradeie.errors import TradeieError
    from tradeie.evaluation.runs import evaluate_model, evaluate_predictions

    if bool(args.model) == bool(args.predictions):
        raise TradeieError(
            "evaluate: give either --model RUN or --predictions FILE (not both)",
            hint="e.g. tradeie evaluate --predictions preds.jsonl --gold gold.jsonl",
        )
    if args.predictions and not args.gold:
        raise TradeieError("evaluate: --predictions needs --gold", hint="pass the gold JSONL or Label Studio export")
    common = dict(baseline_files=args.baseline_files, n_resamples=args.resamples, seed=args.seed, title=args.title)
    with folder_or_stdout(args.out, "metrics.json") as out:
        common["out"] = out
        if args.model:
            result = evaluate_model(
                args.model,
                gold=args.gold,
                dataset=args.dataset,
                split=args.split,
                baselines=args.baselines,
                update_card=args.update_card,
                **common,
            )
        else:
            result = evaluate_predictions(
                args.predictions, args.gold, predictions_gold_entities=args.predictions_gold_entities, **common
            )
        say = status_print(args.out)
        for readme in result.updated_cards:
            say(f"model card updated: {readme}")
        say(_summary(result, args.out))
    return 0


def _summary(result, out: str | None) -> str:
    """The result's summary; for ``--out -`` it says where metrics.json went instead of the report folder."""
    from tradeie.evaluation.report import report_line

    text = result.summary()
    return text.replace(report_line(result.out), "metrics.json written to standard output") if out == STDOUT else text


def run_cv_command(args: argparse.Namespace) -> int:
    from tradeie.evaluation.runs import cross_validate

    with folder_or_stdout(args.out, "metrics.json") as out:
        result = cross_validate(
            args.systems,
            gold=args.gold,
            dataset=args.dataset,
            corpus=args.corpus,
            exclude_splits=args.exclude_splits,
            folds=args.folds,
            overrides=args.overrides,
            ner_config=args.ner_config,
            re_config=args.re_config,
            learning_curve=args.learning_curve,
            curve_systems=args.curve_systems,
            n_resamples=args.resamples,
            seed=args.seed,
            out=out,
            title=args.title,
        )
        status_print(args.out)(_summary(result, args.out))
    return 0
