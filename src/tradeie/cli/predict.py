"""``tradeie predict --model RUN FILES...``: entities and relations for new texts."""

from __future__ import annotations

import argparse
import sys

from tradeie.cli.args import STDOUT, file_or_stdout, output_option


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "predict",
        help="run a trained model on .txt files, folders or JSONL",
        description="Predict entities and relations with a run folder (ner/ and optionally re/). "
        "Output: one JSONL row per document with character offsets into the input text, "
        "or Label Studio tasks with predictions for pre-annotation.",
    )
    cmd.add_argument("--model", required=True, help="run folder, e.g. training/runs/seed")
    cmd.add_argument(
        "inputs",
        nargs="+",
        metavar="FILES",
        help='.txt files, folders of .txt files, JSONL files with a "text" field, or - for '
        "standard input (JSONL rows if it starts with {, else one text)",
    )
    cmd.add_argument(
        "--format",
        choices=("jsonl", "labelstudio"),
        default="jsonl",
        help="jsonl rows or Label Studio tasks with predictions (default: %(default)s)",
    )
    output_option(
        cmd,
        "-o",
        dest="output",
        default=STDOUT,
        help="output file, written atomically; - for standard output (default: -)",
    )
    cmd.add_argument(
        "--facts",
        default=None,
        metavar="FILE.csv|FILE.json",
        help="also write the documents' facts (head referent, relation, tail referent, the mentions "
        "that support each, a score) as a CSV or JSON table; - writes the CSV to standard output "
        "(then --output needs a file)",
    )
    cmd.add_argument("--batch-size", type=int, default=None, help="windows/pairs per forward pass")
    cmd.add_argument("--device", default=None, help="torch device, e.g. cpu or cuda (default: cpu)")
    cmd.set_defaults(func=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    from tradeie.errors import TradeieError
    from tradeie.predict import predict_files

    if args.facts == STDOUT and args.output in (None, STDOUT):
        raise TradeieError(
            "--facts - and --output -: only one of them can go to standard output",
            hint="give --output a file name, e.g. --output preds.jsonl --facts -",
        )
    with file_or_stdout(args.facts, ".csv") as facts:
        result = predict_files(
            args.inputs,
            args.model,
            args.output,
            args.format,
            facts=facts,
            device=args.device,
            batch_size=args.batch_size,
        )
    if result.n_facts is not None:
        where = "standard output" if args.facts == STDOUT else args.facts
        print(f"wrote {result.n_facts} facts to {where}", file=sys.stderr)
    if args.output in (None, STDOUT):
        sys.stdout.write(result.text)
        sys.stdout.flush()
    else:
        print(result.summary(args.output), file=sys.stderr)
    return 0
