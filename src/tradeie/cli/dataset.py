"""``tradeie dataset build|stats|push|export``."""

from __future__ import annotations

import argparse
import logging

from tradeie.cli.args import (
    STDOUT,
    add_push_arguments,
    folder_output_help,
    output_option,
    positive_int,
    push_options,
    refuse_stdout,
    write_json_stdout,
)
from tradeie.data.relcands import DEFAULT_WINDOW
from tradeie.data.splits import DEFAULT_RATIOS, DEFAULT_SEED

log = logging.getLogger("tradeie.data.dataset")

DEFAULT_OUT = "dist/dataset"


def _ratios(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected three comma-separated numbers, e.g. 0.5,0.25,0.25")
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"{text!r}: expected three numbers (train,validation,test)")
    return values


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("dataset", help="build, inspect and publish the Hugging Face dataset")
    cmds = group.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)

    build = cmds.add_parser(
        "build",
        help="gold annotations + corpus -> Hub-ready dataset folder",
        description="Build the ner, documents and relations configs with leakage-aware document splits "
        "and write a Hub dataset repository folder (parquet files, README.md card, GUIDELINES.md).",
    )
    build.add_argument("--gold", default="annotations/gold", help="gold Label Studio export(s) (default: %(default)s)")
    build.add_argument("--corpus", default="corpus/documents.jsonl", help="corpus JSONL (default: %(default)s)")
    output_option(
        build, default=DEFAULT_OUT, help=folder_output_help("output folder, replaced atomically", DEFAULT_OUT)
    )
    build.add_argument("--seed", type=int, default=DEFAULT_SEED, help="split seed (default: %(default)s)")
    build.add_argument(
        "--ratios",
        type=_ratios,
        default=DEFAULT_RATIOS,
        help="train,validation,test document ratios (default: " + ",".join(f"{r:g}" for r in DEFAULT_RATIOS) + ")",
    )
    build.add_argument(
        "--window",
        type=int,
        default=DEFAULT_WINDOW,
        help="max sentence distance of a relation candidate pair (default: %(default)s)",
    )
    build.add_argument(
        "--num-proc",
        type=positive_int,
        default=1,
        help="worker processes computing the rows; same files with any number (default: %(default)s)",
    )
    build.add_argument(
        "--guidelines",
        default="annotations/GUIDELINES.md",
        help="guidelines copied into the folder (default: %(default)s)",
    )
    build.add_argument("--repo-id", default=None, help="Hub id used in the card's code samples and citation")
    build.add_argument("--pretty-name", default=None, help="dataset title in the card")
    build.add_argument(
        "--license",
        default="other",
        help="card licence id (default: %(default)s: annotations CC BY 4.0, texts the publishers')",
    )
    build.add_argument(
        "--tokenizer",
        default=None,
        help="tokenizer (folder or Hub id) for sub-word lengths (default: the default base encoder)",
    )
    build.set_defaults(func=run_build)

    stats = cmds.add_parser("stats", help="per-split statistics of a dataset folder")
    stats.add_argument("dir", nargs="?", default=DEFAULT_OUT, help="dataset folder (default: %(default)s)")
    stats.add_argument("--tokenizer", default=None, help="tokenizer for sub-word lengths (default: base encoder)")
    stats.add_argument(
        "--json",
        "--out",
        "--output",
        dest="json_out",
        metavar="FILE",
        default=None,
        help="also write the stats to this JSON file (`-`: JSON to standard output instead of tables)",
    )
    stats.set_defaults(func=run_stats)

    push = cmds.add_parser(
        "push",
        help="upload a dataset folder to the Hugging Face Hub in one commit",
        description="Create the dataset repo if needed and upload DIR in one commit. The token comes from "
        "HF_TOKEN or the huggingface_hub login (`hf auth login`).",
    )
    push.add_argument("dir", help="dataset folder written by `tradeie dataset build`")
    add_push_arguments(push, "dataset")
    push.set_defaults(func=run_push)

    export = cmds.add_parser(
        "export",
        help="write the dataset as spaCy DocBin files or CoNLL BIO columns",
        description="spacy: train.spacy/dev.spacy/test.spacy (one Doc per document, entities as doc.ents, "
        "relations in doc.user_data['relations'] as indices into doc.ents) and a ready config.cfg "
        "(run `python -m spacy train config.cfg --output model` inside the folder). conll: "
        "train.conll/dev.conll/test.conll with one `TOKEN TAG` line per token (IOB2), a blank line "
        "after each sentence and `-DOCSTART- -X- O O` before each document.",
    )
    export.add_argument("dir", nargs="?", default=DEFAULT_OUT, help="dataset folder (default: %(default)s)")
    export.add_argument("--format", dest="fmt", required=True, choices=("spacy", "conll"), help="output format")
    output_option(
        export,
        default=None,
        help="output folder, replaced atomically (default: dist/spacy or dist/conll); "
        "`-` writes one CoNLL split (--split) to standard output (spaCy DocBin files are a folder only)",
    )
    export.add_argument(
        "--split", default=None, choices=("train", "validation", "test"), help="export only this split (default: all)"
    )
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    import sys

    from tradeie.data.exports import export_dataset

    out = args.out or f"dist/{args.fmt}"
    if args.fmt == "spacy":
        refuse_stdout(out, "--out", "a spaCy export (DocBin files and config.cfg)")
    result, text = export_dataset(args.dir, out, args.fmt, args.split)
    if text is not None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return 0
    for line in result.lines():
        print(line)
    return 0


def run_build(args: argparse.Namespace) -> int:
    from tradeie.data.dataset import build_dataset_folder

    refuse_stdout(args.out, "--out", "the dataset")
    card_options = {"license": args.license, **({"pretty_name": args.pretty_name} if args.pretty_name else {})}
    dsets, stats = build_dataset_folder(
        args.gold,
        args.corpus,
        args.out,
        seed=args.seed,
        ratios=args.ratios,
        window=args.window,
        num_proc=args.num_proc,
        guidelines=args.guidelines,
        tokenizer=args.tokenizer,
        repo_id=args.repo_id,
        **card_options,
    )
    t = stats["total"]
    splits = ", ".join(f"{s} {v['documents']}" for s, v in stats["splits"].items())
    print(
        f"wrote {args.out}: {t['documents']} documents ({splits}), "
        + ", ".join(f"{c} {sum(len(ds) for ds in dd.values())} rows" for c, dd in dsets.items())
        + f"; max sub-word length {t['max_subword_length']}, longest entity {t['longest_entity_words']} words"
    )
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from tradeie.data.dataset import dataset_stats, format_stats, load_hub_configs
    from tradeie.io.atomic import write_json_atomic

    stats = dataset_stats(load_hub_configs(args.dir), args.tokenizer)
    if args.json_out == STDOUT:
        write_json_stdout(stats)
        return 0
    print(format_stats(stats))
    if args.json_out:
        write_json_atomic(args.json_out, stats)
    return 0


def run_push(args: argparse.Namespace) -> int:
    from tradeie.data.hub import format_push_result, push_folder

    print(format_push_result(push_folder(args.dir, args.repo_id, **push_options(args))))
    return 0
