"""User-facing errors: one clear line, no traceback, non-zero exit."""

from __future__ import annotations


class TradeieError(Exception):
    """A problem with the user's input or environment.

    The message must name the file/task/document, the offset where relevant,
    and the fix. The CLI prints it as one line and exits with ``exit_code``.
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(message if hint is None else f"{message} (fix: {hint})")
