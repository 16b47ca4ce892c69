"""The ``tradeie`` console script: a thin argparse front over one function per stage.

Each command group lives in ``tradeie.cli.<group>`` and exposes
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
import traceback

from tradeie import __version__
from tradeie.errors import TradeieError

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
    "push",
)

#: The ``--help`` epilog of every command: what the exit status means, and standard input/output.
EXIT_CODES = """exit codes:
  0    success (also `ls serve` and `ls backend` stopped with Ctrl-C or SIGTERM: their normal end)
  1    the command ran but failed: an internal error (a bug: run again with --debug), a server that
       `ls serve` started exited, or standard output was closed early (e.g. piped into `head`)
  2    a usage or input mistake: bad arguments, or one line naming the file, task or document and the fix
       (also a file or folder that cannot be read or written, and `-` given for a folder output)
  130  interrupted (Ctrl-C); outputs are written whole or not at all

`-` as an input reads standard input (tradeie predict). `--output -` (or `--out -`) writes a single-file
output to standard output, status lines then go to standard error: predict (and --facts -), corpus build,
annotations config / agreement, dataset stats, dataset export --format conll --split S, ls pull (the
report), and the metrics of evaluate / cv (metrics.json) and compare (compare.json). Folder outputs
(dataset build, train, annotations markup, a spaCy export, push model --keep) refuse `-`.
Progress bars go to standard error on a terminal only (not in pipes or when CI is set;
TRADEIE_PROGRESS=1 or 0 forces them on or off)."""


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter (descriptions wrapped), with the exit-code epilog kept as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("exit codes:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _every_parser(parser: argparse.ArgumentParser):
    """``parser`` and each of its sub-commands' parsers, depth first."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                yield from _every_parser(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradeie",
        description="Trade and critical-minerals NER/RE: corpus, annotations, dataset, training, evaluation.",
        epilog=EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tradeie {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("-q", "--quiet", action="store_true", help="only log warnings and errors")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of any error (accepted anywhere on the command line)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"tradeie.cli.{name}").register(sub)
    for command in _every_parser(parser):  # every `tradeie ... --help` ends with the exit codes
        command.epilog = command.epilog or EXIT_CODES
        command.formatter_class = HelpFormatter
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors print one line and return 2, with a traceback only under ``--debug``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    args.debug = debug
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "urllib3", "filelock", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    try:
        result = args.func(args)
    except TradeieError as exc:
        return _fail(f"tradeie: error: {exc}", exc.exit_code, debug)
    except KeyboardInterrupt:
        return _fail("tradeie: interrupted (outputs are written whole or not at all)", 130, debug)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # a path the user gave: unreadable, missing, disk full, ...
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"tradeie: error: {where}{exc.strerror or exc}", 2, debug)
    except Exception as exc:  # a bug: one line, the traceback with --debug
        return _fail(
            f"tradeie: internal error: {type(exc).__name__}: {_first_line(exc)} "
            "(run again with --debug for the traceback and report it)",
            1,
            debug,
        )
    return int(result or 0)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _fail(line: str, code: int, debug: bool) -> int:
    """Print ``line`` (and, with ``--debug``, the traceback first) to stderr; return ``code``."""
    if debug:
        traceback.print_exc(file=sys.stderr)
    print(line.replace("\n", " "), file=sys.stderr)
    return code
