"""Argument types shared by several commands."""

from __future__ import annotations


def csv_list(text: str) -> list[str]:
    """An argparse ``type`` for comma-separated names (blanks dropped)."""
    return [x.strip() for x in text.split(",") if x.strip()]
