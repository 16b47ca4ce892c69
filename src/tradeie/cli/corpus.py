"""``tradeie corpus build``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tradeie.cli.args import file_or_stdout, output_option, status_print

log = logging.getLogger("tradeie.corpus")
DEFAULT_HELDOUT = "corpus/heldout"


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("corpus", help="build the normalised corpus from raw seed texts")
    cmds = group.add_subparsers(dest="corpus_command", metavar="ACTION", required=True)
    build = cmds.add_parser(
        "build",
        help="seeds/*.txt -> corpus/documents.jsonl",
        description="Normalise every .txt in SEEDS into one JSONL document per file.",
    )
    build.add_argument("--seeds", default="seeds", help="folder of raw .txt files (default: %(default)s)")
    build.add_argument(
        "--articles",
        default="corpus/articles",
        help="folder of .txt articles written for this dataset (origin written-for-dataset); "
        "'' for none (default: %(default)s)",
    )
    build.add_argument(
        "--heldout",
        default=None,
        help="folder of .txt articles written for the held-out test set (origin written-held-out; "
        "always in the test split) (default: corpus/heldout when it exists)",
    )
    output_option(
        build,
        default="corpus/documents.jsonl",
        help="output JSONL, written atomically; - for standard output (default: %(default)s)",
    )
    build.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="word-shingle Jaccard similarity at which documents are near-duplicates",
    )
    build.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    from tradeie.corpus import NEAR_DUPLICATE_THRESHOLD, build_corpus

    threshold = NEAR_DUPLICATE_THRESHOLD if args.threshold is None else args.threshold
    heldout = args.heldout
    if heldout is None and Path(DEFAULT_HELDOUT).is_dir():
        heldout = DEFAULT_HELDOUT
    with file_or_stdout(args.out, ".jsonl") as out:
        docs = build_corpus(args.seeds, out, threshold, articles_dir=args.articles or None, heldout_dir=heldout or None)
        count, origins = _summarise(docs)  # read while the (possibly temporary) file is there
    where = "standard output" if args.out == "-" else args.out
    status_print(args.out)(f"wrote {count} documents to {where} ({origins})")
    return 0


def _summarise(docs) -> tuple[int, str]:
    """Log each document and the near-duplicate groups; the number of documents and ``n origin, ...``."""
    groups: dict[str, list[str]] = {}
    origins: dict[str, int] = {}
    for doc in docs:
        groups.setdefault(doc.meta["near_duplicate_group"], []).append(doc.id)
        origins[doc.meta["origin"]] = origins.get(doc.meta["origin"], 0) + 1
        log.info(
            "%s: %d chars, %d paragraphs, %d sentences, date=%s source=%s",
            doc.id,
            len(doc.text),
            len(doc.meta["paragraphs"]),
            len(doc.meta["sentences"]),
            doc.meta["date"],
            doc.meta["source"],
        )
    for group, members in groups.items():
        if len(members) > 1:
            log.info("near-duplicate group %s: %s", group, ", ".join(members))
    return sum(origins.values()), ", ".join(f"{n} {o}" for o, n in origins.items())
