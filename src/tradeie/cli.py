"""The ``tradeie`` console script: a thin argparse front over one function per stage.

Each command group lives in ``tradeie.commands.<group>`` and exposes
``register(subparsers)``; handlers import heavy libraries lazily so that
``tradeie --help`` stays fast. User mistakes raise :class:`TradeieError`,
printed as one line with a non-zero exit and no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from . import __version__
from .errors import TradeieError

#: Command-group modules, in the order they appear in ``--help``.
COMMAND_MODULES = (
    "corpus",
    "annotations",
    "dataset",
    "ls",
    "train",
    "predict",
    "evaluate",
    "compare",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradeie",
        description="Trade and critical-minerals NER/RE: corpus, annotations, dataset, training, evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"tradeie {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("-q", "--quiet", action="store_true", help="only log warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"tradeie.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "urllib3", "filelock", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    try:
        result = args.func(args)
    except TradeieError as exc:
        print(f"tradeie: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tradeie: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
