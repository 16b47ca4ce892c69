"""Argument types and argument groups shared by several commands."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path


def csv_list(text: str) -> list[str]:
    """An argparse ``type`` for comma-separated names (blanks dropped); commas inside ``[...]`` stay,
    so ``crf,crf[c1=0.1,c2=0.5]`` is two names."""
    items, depth, current = [], 0, ""
    for char in text:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth <= 0:
            items.append(current)
            current = ""
        else:
            current += char
    return [x.strip() for x in [*items, current] if x.strip()]


def add_set_argument(cmd: argparse.ArgumentParser, help: str) -> None:
    """``--set SYSTEM.KEY=VALUE`` (repeatable) into ``args.overrides``."""
    cmd.add_argument("--set", dest="overrides", action="append", default=[], metavar="SYSTEM.KEY=VALUE", help=help)


def add_push_arguments(cmd: argparse.ArgumentParser, what: str) -> None:
    """The options of a one-commit upload to a Hub repository of kind ``what`` (dataset, model)."""
    cmd.add_argument("--repo-id", required=True, help=f"OWNER/NAME of the {what} repository")
    cmd.add_argument("--private", action="store_true", help="create the repository as private")
    cmd.add_argument("--revision", default=None, help="branch to commit to (created if missing)")
    cmd.add_argument("--message", default=None, help="commit message")
    cmd.add_argument("--dry-run", action="store_true", help="list what would be uploaded and where; send nothing")


def push_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of :func:`tradeie.data.hub.push_folder` given by :func:`add_push_arguments`."""
    return {"private": args.private, "revision": args.revision, "dry_run": args.dry_run, "commit_message": args.message}


# ----------------------------------------------------------------------------- outputs: files, folders, stdout

#: The output name that means standard output.
STDOUT = "-"


def output_option(
    cmd: argparse.ArgumentParser, *names: str, default: str | None, help: str, dest: str = "out", metavar: str = "PATH"
) -> None:
    """An output option spelled ``--out`` and ``--output`` (and any further ``names``), stored in ``dest``."""
    cmd.add_argument("--out", "--output", *names, dest=dest, default=default, metavar=metavar, help=help)


def folder_output_help(what: str, default: str | None = None) -> str:
    """The ``--help`` text of an output that is a folder (never standard output)."""
    shown = f" (default: {default})" if default else ""
    return f"{what}{shown}; a folder, so `-` (standard output) is refused"


def refuse_stdout(value: str | None, flag: str, what: str) -> None:
    """A folder output given as ``-``: one line, exit 2 (a folder cannot be written to standard output)."""
    from tradeie.errors import TradeieError

    if value == STDOUT:
        raise TradeieError(
            f"{flag} -: {what} is a folder and cannot be written to standard output",
            hint=f"give a folder path for {flag}",
        )


def status_print(*outputs: str | None):
    """``print`` for a command's status lines: to standard error when one of ``outputs`` is ``-``
    (standard output then carries the data alone), else to standard output."""
    import functools
    import sys

    stream = sys.stderr if STDOUT in outputs else sys.stdout
    return functools.partial(print, file=stream)


def write_stdout(text: str) -> None:
    """``text`` to standard output as is (flushed, so that it is whole before the command returns)."""
    import sys

    sys.stdout.write(text)
    sys.stdout.flush()


@contextlib.contextmanager
def file_or_stdout(path: str | None, suffix: str = "") -> Iterator[str | None]:
    """The path a library call should write: ``path`` itself, or for ``-`` a temporary file
    (named ``output<suffix>``: the suffix can choose the format) copied to standard output afterwards."""
    if path != STDOUT:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="tradeie-stdout-") as tmp:
        target = Path(tmp) / f"output{suffix}"
        yield str(target)
        write_stdout(target.read_text(encoding="utf-8"))


@contextlib.contextmanager
def folder_or_stdout(path: str | None, member: str) -> Iterator[str | None]:
    """The folder a report should be written to: ``path`` itself, or for ``-`` a temporary folder
    whose ``member`` file (e.g. ``metrics.json``) alone is copied to standard output afterwards."""
    if path != STDOUT:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="tradeie-stdout-") as tmp:
        target = Path(tmp) / "report"
        yield str(target)
        write_stdout((target / member).read_text(encoding="utf-8"))


def write_json_stdout(obj) -> None:
    """``obj`` as JSON to standard output, formatted as :func:`tradeie.io.atomic.write_json_atomic` writes files."""
    import json

    write_stdout(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def non_negative_int(text: str) -> int:
    """argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 0 or more")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number, 1 or more."""
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 or more")
    return value
