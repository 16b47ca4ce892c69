"""``tradeie annotations validate|agreement|config``."""

from __future__ import annotations

import argparse

from tradeie.annotations.gold import DEFAULT_CORPUS, DEFAULT_GOLD
from tradeie.cli.args import (
    STDOUT,
    folder_output_help,
    output_option,
    refuse_stdout,
    write_json_stdout,
    write_stdout,
)


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("annotations", help="validate gold annotations, measure agreement, write the LS config")
    cmds = group.add_subparsers(dest="annotations_command", metavar="ACTION", required=True)

    val = cmds.add_parser("validate", help="check gold annotations against the schema and the corpus")
    val.add_argument(
        "gold", nargs="?", default=DEFAULT_GOLD, help="Label Studio export file or folder (default: %(default)s)"
    )
    val.add_argument("--corpus", default=DEFAULT_CORPUS, help="corpus JSONL (default: %(default)s)")
    val.add_argument("--strict", action="store_true", help="treat consistency warnings as errors")
    val.add_argument("--show-warnings", action="store_true", help="print every warning (default: a count)")
    val.set_defaults(func=run_validate)

    agr = cmds.add_parser("agreement", help="inter-annotator agreement between two Label Studio exports")
    agr.add_argument("a", help="reference annotations (export file or folder)")
    agr.add_argument("b", help="second annotations (export file or folder)")
    agr.add_argument(
        "--json",
        "--out",
        "--output",
        dest="json_out",
        metavar="FILE",
        help="also write the figures to this JSON file (`-`: the JSON alone to standard output instead of tables)",
    )
    agr.add_argument("--list", action="store_true", help="list every disagreement")
    agr.set_defaults(func=run_agreement)

    mk = cmds.add_parser("markup", help="check inline-markup annotation files and convert them to Label Studio JSON")
    mk.add_argument("files", nargs="+", help="ID.ann files ([[surface|LABEL|id|referent]] markup)")
    mk.add_argument("--texts", required=True, help="folder with the ID.txt raw texts the markup must reproduce")
    output_option(
        mk, default=None, help=folder_output_help("write one Label Studio task file per document into this folder")
    )
    mk.set_defaults(func=run_markup)

    cfg = cmds.add_parser("config", help="write the Label Studio labeling config generated from the schema")
    output_option(
        cfg,
        default="annotations/labeling_config.xml",
        help="the XML file, written atomically; - for standard output (default: %(default)s)",
    )
    cfg.set_defaults(func=run_config)


def run_validate(args: argparse.Namespace) -> int:
    """Print label counts and one line per finding; errors (or, with --strict, warnings) exit 2."""
    from tradeie.annotations.gold import validate
    from tradeie.annotations.validate import errors, warnings
    from tradeie.corpus import load_corpus
    from tradeie.errors import TradeieError
    from tradeie.labelstudio.format import read_export
    from tradeie.schema import ENTITY_LABELS, RELATION_LABELS

    export = read_export(args.gold)
    report = validate(export.documents, load_corpus(args.corpus), sources=export.sources)
    for warning in export.warnings:
        print(f"warning: {warning}")
    columns = [*ENTITY_LABELS, *RELATION_LABELS]
    width = max([24, *(len(d) + 2 for d in report.counts)])
    print(f"{'document':<{width}}" + "".join(f"{c:>10}" for c in columns))
    total = {c: 0 for c in columns}
    for doc_id, counts in report.counts.items():
        print(f"{doc_id:<{width}}" + "".join(f"{counts.get(c, 0):>10}" for c in columns))
        for c in columns:
            total[c] += counts.get(c, 0)
    print(f"{'total':<{width}}" + "".join(f"{total[c]:>10}" for c in columns))
    found_errors, found_warnings = errors(report.findings), warnings(report.findings)
    show_warnings = args.show_warnings or args.strict
    for finding in found_errors + (found_warnings if show_warnings else []):
        print(finding.line())
    print(
        f"{len(found_errors)} errors, {len(found_warnings)} consistency warnings"
        + ("" if show_warnings else " (--show-warnings lists them)")
    )
    failing = [f"{len(found_errors)} error(s)"] if found_errors else []
    if args.strict and found_warnings:
        failing.append(f"{len(found_warnings)} warning(s) (--strict)")
    if failing:
        raise TradeieError(
            f"{args.gold}: {' and '.join(failing)} in the annotations, one per line above",
            hint="fix each as its line says, then run `tradeie annotations validate` again",
        )
    return 0


def run_agreement(args: argparse.Namespace) -> int:
    from tradeie.annotations.gold import agreement, disagreements
    from tradeie.io.atomic import write_json_atomic
    from tradeie.labelstudio.format import read_export

    a, b = read_export(args.a).documents, read_export(args.b).documents
    figures = agreement(a, b)
    if args.json_out == STDOUT:
        write_json_stdout(figures)
        return 0
    print(
        f"documents: {len(figures['documents'])}, tokens: {figures['tokens']}, "
        f"token-level Cohen's kappa: {figures['token_kappa']:.3f}"
    )
    print(f"{'spans':<12}{'strict F1':>10}{'overlap F1':>12}{'A':>6}{'B':>6}")
    for label, row in figures["spans"].items():
        print(
            f"{label:<12}{row['strict']['f1']:>10.3f}{row['overlap']['f1']:>12.3f}"
            f"{row['strict']['a']:>6}{row['strict']['b']:>6}"
        )
    print(f"{'relations':<12}{'F1':>10}{'':>12}{'A':>6}{'B':>6}")
    for label, row in figures["relations"].items():
        print(f"{label:<12}{row['f1']:>10.3f}{'':>12}{row['a']:>6}{row['b']:>6}")
    if args.list:
        for line in disagreements(a, b):
            print(line)
    if args.json_out:
        write_json_atomic(args.json_out, figures)
    return 0


def run_markup(args: argparse.Namespace) -> int:
    from tradeie.annotations.markup import check_markup_files
    from tradeie.errors import TradeieError

    refuse_stdout(args.out, "--out", "the Label Studio task folder")
    if check_markup_files(args.files, args.texts, args.out):
        raise TradeieError(
            "annotations markup: problems in the markup, one per line above"
            + ("; the files with problems were not converted" if args.out else ""),
            hint="correct each file as its line says and run the command again",
        )
    return 0


def run_config(args: argparse.Namespace) -> int:
    from tradeie.io.atomic import write_text_atomic
    from tradeie.schema import labeling_config

    if args.out == STDOUT:
        write_stdout(labeling_config())
        return 0
    write_text_atomic(args.out, labeling_config())
    print(f"wrote {args.out}")
    return 0
