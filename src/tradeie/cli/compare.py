"""``tradeie compare``: train several systems on the train split and score them side by side."""

from __future__ import annotations

import argparse

from tradeie.cli.args import STDOUT, add_set_argument, csv_list, folder_or_stdout, output_option, status_print


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "compare",
        help="train NER and relation systems on the train split and compare them on one split",
        description="Each system is fitted on the dataset's train split and scored on --split (validation "
        "for choosing, test for the final report). Writes compare.md and compare.json to --out and prints "
        "the tables; with --out -, compare.json alone goes to standard output (the tables to standard error).",
    )
    cmd.add_argument("--dataset", default="dist/dataset", help="dataset folder (default: %(default)s)")
    cmd.add_argument("--split", default="validation", help="split to score (default: %(default)s)")
    cmd.add_argument(
        "--ner",
        type=csv_list,
        default=["rules", "crf", "crf-rules"],
        help="NER systems, comma-separated (default: rules,crf,crf-rules; also: transformer)",
    )
    cmd.add_argument(
        "--re", dest="re_systems", type=csv_list, default=[], help="relation systems, comma-separated (e.g. re-rules)"
    )
    cmd.add_argument(
        "--ner-for-re",
        default=None,
        help="NER system whose entities the relation systems use end to end (default: the first)",
    )
    add_set_argument(cmd, "override a system's config value, e.g. --set crf.c1=0.1 (repeatable)")
    cmd.add_argument(
        "--origin",
        dest="origins",
        type=csv_list,
        default=[],
        help="score only the split's documents of these origins, comma-separated "
        "(e.g. written-held-out: the articles written after the systems were chosen)",
    )
    cmd.add_argument(
        "--documents",
        type=csv_list,
        default=[],
        help="score only the split's documents whose ids match one of these glob patterns, comma-separated "
        "(e.g. 'h0[5-8]_*')",
    )
    cmd.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default: %(default)s)")
    output_option(
        cmd,
        default="eval/compare",
        help="output folder, replaced atomically (default: %(default)s); - writes compare.json to standard output",
    )
    cmd.set_defaults(func=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from tradeie.evaluation.compare import compare_dataset, render_markdown

    say = status_print(args.out)
    with folder_or_stdout(args.out, "compare.json") as out:
        comp = compare_dataset(
            args.dataset,
            args.ner,
            args.re_systems,
            out=out,
            split=args.split,
            ner_for_re=args.ner_for_re,
            n_resamples=args.resamples,
            overrides=args.overrides,
            origins=args.origins,
            documents=args.documents,
        )
        say(render_markdown(comp))
    if args.out != STDOUT:
        say(f"\nwrote {args.out}/compare.md and compare.json")
    return 0
