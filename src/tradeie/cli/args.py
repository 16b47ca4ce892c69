"""Argument types and argument groups shared by several commands."""

from __future__ import annotations

import argparse


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
