"""Progress bars on a terminal, silence in CI logs and pipes (tqdm on standard error)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def show_progress() -> bool:
    """True when standard error is a terminal (``TRADEIE_PROGRESS=0/1`` overrides; ``CI`` set: off)."""
    forced = os.environ.get("TRADEIE_PROGRESS")
    if forced in ("0", "1"):
        return forced == "1"
    if os.environ.get("CI"):
        return False
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def progress(items: Iterable[T], desc: str, total: int | None = None, unit: str = "it") -> Iterable[T]:
    """``items`` wrapped in a tqdm bar when :func:`show_progress`, else unchanged."""
    if not show_progress():
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, total=total, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)
