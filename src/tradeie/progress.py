"""Progress bars on a terminal, silence in CI logs and pipes (tqdm on standard error).

The one rule (:func:`show_progress`): a bar is drawn only when standard error is
a terminal and ``CI`` is not set; ``TRADEIE_PROGRESS=1`` forces bars on,
``TRADEIE_PROGRESS=0`` forces them off. Bars never touch standard output, so
``tradeie ... --output - | next-tool`` stays clean, and when no bar is drawn
nothing at all is written (what a step has to say goes to the log).

The API, stable for every module that reports progress:

- :func:`progress` wraps an iterable: ``for path in progress(paths, "corpus: seeds",
  total=len(paths), unit="file"): ...``;
- :func:`progress_bar` is a bar updated by hand, for loops that are not one
  iterable (training steps, folds of several systems, streamed rows):
  ``with progress_bar("cv", total=n, unit="fit") as bar: ...; bar.update()``;
  ``bar.note(message, logger)`` shows a step's message in the bar on a terminal
  and logs it (INFO) otherwise;
- :func:`show_progress` answers whether bars are drawn now.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")

#: Environment variable that forces bars on (``1``) or off (``0``) whatever the terminal and ``CI``.
FORCE_VARIABLE = "TRADEIE_PROGRESS"


def show_progress() -> bool:
    """True when standard error is a terminal (``TRADEIE_PROGRESS=0/1`` overrides; ``CI`` set: off)."""
    forced = os.environ.get(FORCE_VARIABLE)
    if forced in ("0", "1"):
        return forced == "1"
    if os.environ.get("CI"):
        return False
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _tqdm(**kwargs: Any):
    from tqdm.auto import tqdm

    return tqdm(file=sys.stderr, leave=False, dynamic_ncols=True, **kwargs)


def progress(items: Iterable[T], desc: str, total: int | None = None, unit: str = "it") -> Iterable[T]:
    """``items`` wrapped in a tqdm bar when :func:`show_progress`, else ``items`` unchanged."""
    if not show_progress():
        return items
    return _tqdm(iterable=items, desc=desc, total=total, unit=unit)


class Bar:
    """A progress bar updated by hand (:func:`progress_bar`); every method is a no-op when no bar is drawn."""

    def __init__(self, desc: str, total: int | None = None, unit: str = "it", initial: int = 0) -> None:
        self._bar = _tqdm(desc=desc, total=total, unit=unit, initial=initial) if show_progress() else None

    @property
    def active(self) -> bool:
        """Whether a bar is drawn (standard error is a terminal, or ``TRADEIE_PROGRESS=1``)."""
        return self._bar is not None

    def update(self, n: int = 1) -> None:
        """Advance the bar by ``n``."""
        if self._bar is not None and n:
            self._bar.update(n)

    def set_total(self, total: int | None) -> None:
        """Change the bar's total (e.g. once a streamed input's length is known)."""
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def set_postfix(self, text: str) -> None:
        """Show ``text`` after the bar (e.g. the last validation F1)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=True)

    def note(self, message: str, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        """``message`` after the bar on a terminal; logged to ``logger`` (``level``) when no bar is drawn."""
        if self._bar is not None:
            self._bar.set_postfix_str(message, refresh=True)
        elif logger is not None:
            logger.log(level, "%s", message)

    def close(self) -> None:
        """Remove the bar from the terminal (idempotent)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(desc: str, total: int | None = None, unit: str = "it", initial: int = 0) -> Bar:
    """A :class:`Bar` (a context manager) drawn on standard error when :func:`show_progress`.

    ``initial`` starts the count part-way (a resumed training run's steps done).
    """
    return Bar(desc, total=total, unit=unit, initial=initial)
