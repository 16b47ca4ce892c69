"""``tradeie evaluate`` (a trained run or any predictions file) and ``tradeie cv`` (grouped K-fold)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tradeie.cli.args import csv_list

log = logging.getLogger("tradeie.evaluation.evaluate")

DEFAULT_EVAL_DIR = "eval"
BASELINE_CHOICES = ("crf", "gazetteer")


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated document counts, e.g. 1,2,3")
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes must be positive integers")
    return sizes


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 or more")
    return value


def _named_file(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=FILE, e.g. crf=eval/crf-preds.jsonl")
    return name, path


def _common(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--out", default=None, help="output folder, replaced atomically (default: eval/<name>)")
    cmd.add_argument(
        "--resamples",
        type=_non_negative_int,
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
        default="dist/dataset",
        help="dataset folder from `tradeie dataset build` (with --model; default: %(default)s)",
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
        default=list(BASELINE_CHOICES),
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
        type=_positive_int,
        default=None,
        help="number of folds K (default: one fold per near-duplicate group)",
    )
    cv.add_argument(
        "--gold",
        default=None,
        help="gold JSONL / Label Studio export (default: annotations/gold joined with the corpus)",
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
        default=["model", *BASELINE_CHOICES],
        help="systems to cross-validate: model, crf, gazetteer (default: model,crf,gazetteer)",
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
    cv.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="TASK.KEY=VALUE",
        help="override a config value, e.g. --set ner.epochs=3 --set re.epochs=5 (repeatable)",
    )
    cv.add_argument(
        "--learning-curve",
        type=_sizes,
        default=None,
        metavar="SIZES",
        help="also train on these numbers of training documents per fold, e.g. 1,2,3",
    )
    cv.add_argument(
        "--curve-systems", type=csv_list, default=None, help="systems for the learning curve (default: all)"
    )
    _common(cv)
    cv.set_defaults(func=run_cv_command)


# --------------------------------------------------------------------------- evaluate


def _print_summary(out: Path, metrics: dict, baselines: dict) -> None:
    from tradeie.evaluation.report import headline_markdown, system_name

    print(headline_markdown({system_name(metrics): metrics, **baselines}), end="")
    print(f"report: {out / 'report.html'} (summary {out / 'report.md'}, metrics {out / 'metrics.json'})")


def run_evaluate(args: argparse.Namespace) -> int:
    from tradeie.errors import TradeieError

    if bool(args.model) == bool(args.predictions):
        raise TradeieError(
            "evaluate: give either --model RUN or --predictions FILE (not both)",
            hint="e.g. tradeie evaluate --predictions preds.jsonl --gold gold.jsonl",
        )
    if args.predictions and not args.gold:
        raise TradeieError("evaluate: --predictions needs --gold", hint="pass the gold JSONL or Label Studio export")
    if args.model:
        return _evaluate_model(args)
    return _evaluate_predictions(args)


def _score(gold, pred, pge, args, system: dict) -> dict:
    from tradeie.evaluation.evaluate import evaluate_documents

    metrics = evaluate_documents(gold, pred, pred_gold_entities=pge, n_resamples=args.resamples, seed=args.seed)
    metrics["system"] = system
    return metrics


def _file_baselines(gold, args) -> dict[str, dict]:
    from tradeie.evaluation.evaluate import load_predictions

    out = {}
    for name, path in args.baseline_files:
        pred = load_predictions(path)
        out[name] = _score(
            gold, pred, None, args, {"name": name, "predictions": path, "relations": any(d.relations for d in pred)}
        )
    return out


def _evaluate_predictions(args: argparse.Namespace) -> int:
    from tradeie.evaluation.evaluate import load_gold, load_predictions
    from tradeie.evaluation.report import write_report

    gold = load_gold(args.gold)
    pred = load_predictions(args.predictions)
    pge = load_predictions(args.predictions_gold_entities) if args.predictions_gold_entities else None
    relations = pge is not None or any(d.relations for d in pred)
    metrics = _score(
        gold,
        pred,
        pge,
        args,
        {
            "name": Path(args.predictions).stem,
            "predictions": args.predictions,
            "gold": args.gold,
            "relations": relations,
        },
    )
    baselines = _file_baselines(gold, args)
    out = Path(args.out or Path(DEFAULT_EVAL_DIR) / Path(args.predictions).stem)
    from tradeie.evaluation.evaluate import pair_documents

    write_report(
        out,
        metrics,
        gold,
        pair_documents(gold, pred),
        pred_gold_entities=pair_documents(gold, pge) if pge is not None else None,
        baselines=baselines,
        title=args.title,
    )
    _print_summary(out, metrics, baselines)
    return 0


def _evaluate_model(args: argparse.Namespace) -> int:
    from tradeie.evaluation.experiments import load_run, strip_annotations
    from tradeie.errors import TradeieError
    from tradeie.evaluation.evaluate import load_dataset_split, load_gold, strip_relations
    from tradeie.evaluation.report import fill_model_card, write_report

    run = Path(args.model)
    pipeline = load_run(run)
    gold = load_gold(args.gold) if args.gold else load_dataset_split(args.dataset, args.split)
    if not gold:
        raise TradeieError(f"{args.dataset}: the {args.split} split is empty", hint="choose another --split")
    pred = pipeline.predict_documents(strip_annotations(gold))
    has_re = getattr(pipeline, "relation", None) is not None
    pge = pipeline.predict_documents(strip_relations(gold), gold_entities=True) if has_re else None
    metrics = _score(
        gold,
        pred,
        pge,
        args,
        {
            "name": run.name,
            "model": str(run),
            "relations": has_re,
            "dataset": None if args.gold else args.dataset,
            "split": None if args.gold else args.split,
        },
    )
    baselines = {**_model_baselines(run, gold, args), **_file_baselines(gold, args)}
    out = Path(args.out or Path(DEFAULT_EVAL_DIR) / run.name)
    write_report(
        out,
        metrics,
        gold,
        pred,
        pred_gold_entities=pge,
        baselines=baselines,
        title=args.title or f"{run.name} on {args.gold or f'{args.dataset} ({args.split})'}",
    )
    if args.update_card:
        for task in ("ner", "re"):
            readme = run / task / "README.md"
            if readme.exists():
                fill_model_card(
                    readme,
                    metrics,
                    dataset_name=str(args.gold or args.dataset),
                    split=args.split if not args.gold else "gold",
                    tasks=(task,),
                )
                print(f"model card updated: {readme}")
    _print_summary(out, metrics, baselines)
    return 0


def _model_baselines(run: Path, gold, args) -> dict[str, dict]:
    from tradeie.evaluation.experiments import strip_annotations
    from tradeie.errors import TradeieError

    kinds = [k for k in args.baselines if k != "none"]
    unknown = sorted(set(kinds) - set(BASELINE_CHOICES))
    if unknown:
        raise TradeieError(
            f"--baselines: unknown baseline(s) {', '.join(unknown)}",
            hint=f"choose from {', '.join(BASELINE_CHOICES)} or 'none'",
        )
    out = {}
    train = None
    for kind in kinds:
        from tradeie.training.baselines import fit_baseline, load_baseline

        saved = run / "baselines" / kind
        if (saved / "baseline.json").exists():
            model, source = load_baseline(saved), str(saved)
        else:
            if train is None:
                from tradeie.evaluation.evaluate import load_dataset_split

                train = load_dataset_split(args.dataset, "train")
            gold_ids = {d.id for d in gold}
            model = fit_baseline(kind, [d for d in train if d.id not in gold_ids])
            source = f"trained on {args.dataset} (train)"
        pred = model.predict(strip_annotations(gold))
        out[kind] = _score(gold, pred, None, args, {"name": kind, "source": source, "relations": False})
    return out


# --------------------------------------------------------------------------- cv


def _load_cv_docs(args: argparse.Namespace):
    from tradeie.errors import TradeieError

    if args.gold and args.dataset:
        raise TradeieError("cv: give --gold or --dataset, not both")
    if args.dataset:
        from tradeie.data.dataset import documents_from_dataset, load_hub_folder

        docs = documents_from_dataset(load_hub_folder(args.dataset, "documents"))
        return [d for d in docs if d.meta.get("split") not in args.exclude_splits]
    if args.gold:
        from tradeie.evaluation.evaluate import load_gold

        docs = load_gold(args.gold)
        corpus = args.corpus
        if (
            corpus is None
            and not any(d.meta.get("near_duplicate_group") for d in docs)
            and Path("corpus/documents.jsonl").exists()
        ):
            corpus = "corpus/documents.jsonl"
        if corpus:
            from tradeie.annotations.gold import attach_corpus
            from tradeie.corpus import load_corpus

            docs = attach_corpus(docs, load_corpus(corpus), args.gold)
        elif not any(d.meta.get("near_duplicate_group") for d in docs):
            raise TradeieError(
                f"cv: {args.gold} carries no near-duplicate groups, so near-copies could straddle folds",
                hint="pass --corpus corpus/documents.jsonl",
            )
        return docs
    from tradeie.annotations.gold import load_gold

    return load_gold(corpus=args.corpus or "corpus/documents.jsonl")


def _systems(args: argparse.Namespace) -> list:
    from tradeie.evaluation.experiments import BaselineSystem, RegisteredSystem, TransformerSystem
    from tradeie.errors import TradeieError
    from tradeie.systems.base import system_names

    registered = set(system_names())
    unknown = sorted(
        n for n in args.systems if n not in {"model", "gazetteer"} | registered and not set(n.split("+")) <= registered
    )
    if unknown or not args.systems:
        raise TradeieError(
            f"--systems: unknown system(s) {', '.join(unknown) or '(none given)'}",
            hint=f"choose from model, gazetteer, {', '.join(sorted(registered))} or NER+RE pairs such as crf+re-rules",
        )
    overrides: dict[str, list[str]] = {"ner": [], "re": []}
    for item in args.overrides:
        task, _, rest = item.partition(".")
        if "=" not in rest:
            raise TradeieError(f"--set {item}: expected ner.KEY=VALUE, re.KEY=VALUE or SYSTEM.KEY=VALUE")
        overrides.setdefault(task, []).append(rest)
    systems = []
    for name in args.systems:
        if name in registered or "+" in name:
            systems.append(RegisteredSystem(name, overrides))
        elif name == "model":
            from tradeie.training.config import load_config

            ner = load_config(args.ner_config, overrides["ner"], task="ner")
            re_cfg = None if args.re_config == "none" else load_config(args.re_config, overrides["re"], task="re")
            systems.append(TransformerSystem(ner, re_cfg, seed=args.seed))
        else:
            systems.append(BaselineSystem(name))
    return systems


def run_cv_command(args: argparse.Namespace) -> int:
    from tradeie.evaluation.experiments import cv_summary_json, run_cv
    from tradeie.evaluation.report import write_report

    from tradeie.data.splits import groups_of

    systems = _systems(args)
    docs = _load_cv_docs(args)
    if args.folds is None:
        args.folds = len(groups_of(docs))
        log.info("cv: %d folds, one per near-duplicate group (leave one group out)", args.folds)
    result = run_cv(
        docs,
        systems,
        args.folds,
        seed=args.seed,
        learning_curve=args.learning_curve,
        curve_systems=args.curve_systems,
        n_resamples=args.resamples,
        progress=log.info,
    )
    main = systems[0].name
    pooled = result["pooled"]
    preds = result["predictions"][main]
    out = Path(args.out or Path(DEFAULT_EVAL_DIR) / f"cv-{args.folds}fold")
    write_report(
        out,
        pooled[main],
        result["gold"],
        preds["entities_and_relations"],
        pred_gold_entities=preds["gold_entities"],
        baselines={n: m for n, m in pooled.items() if n != main},
        cv=cv_summary_json(result),
        title=args.title or f"{args.folds}-fold grouped cross-validation ({main}, out-of-fold)",
    )
    for name, data in result["systems"].items():
        f1 = data["summary"].get("ner_f1")
        re_f1 = data["summary"].get("re_f1")
        line = f"{name}: NER F1 {f1['mean']:.3f} ± {f1['sd'] or 0:.3f}"
        if re_f1:
            line += f", RE F1 {re_f1['mean']:.3f} ± {re_f1['sd'] or 0:.3f}"
        print(line + f" over {result['folds']} folds")
    print(f"report: {out / 'report.html'} (summary {out / 'report.md'}, metrics {out / 'metrics.json'})")
    return 0
