"""Documents JSONL: the one reader and writer of ``{"id", "text", "entities", "relations"}`` rows.

A row is :meth:`tradeie.document.Document.to_dict` in one of three layouts:

* ``documents``: annotations, ``meta`` nested (gold and model-free evaluation);
* ``predictions``: annotations with a ``score`` on every entity and relation
  (``null`` when unscored), no ``meta`` (``tradeie predict``);
* ``corpus``: ``{"id", "text", **meta}``, no annotations (``corpus/documents.jsonl``).

Reading accepts every layout: top-level fields other than ``id``, ``text``,
``entities``, ``relations`` and ``meta`` go into ``meta``. A bad line or row
raises :class:`~tradeie.errors.TradeieError` naming ``file:line`` and the fix.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.io.atomic import write_text_atomic

LAYOUTS: tuple[str, ...] = ("documents", "predictions", "corpus")
_FIELDS = frozenset({"id", "text", "entities", "relations", "meta"})
_ROW_HINT = 'rows look like {"id", "text", "entities", "relations"}'


def document_row(doc: Document, layout: str = "documents") -> dict[str, Any]:
    """``doc`` as one JSONL row of ``layout`` (see the module doc)."""
    if layout == "documents":
        return doc.to_dict()
    if layout == "predictions":
        return doc.to_dict(scores=True, meta=False)
    if layout == "corpus":
        return {"id": doc.id, "text": doc.text, **doc.meta}
    raise ValueError(f"unknown Documents JSONL layout {layout!r} (one of {', '.join(LAYOUTS)})")


def documents_jsonl(docs: Iterable[Document], layout: str = "documents") -> str:
    """The JSONL text of ``docs``: one row per line, UTF-8 characters as they are."""
    return "".join(json.dumps(document_row(d, layout), ensure_ascii=False) + "\n" for d in docs)


def write_documents(path: str | os.PathLike, docs: Iterable[Document], layout: str = "documents") -> Path:
    """Write ``docs`` to ``path`` atomically (whole or not at all)."""
    return write_text_atomic(path, documents_jsonl(docs, layout))


def read_rows(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """``(line number, JSON value)`` for each non-blank line; a bad line raises naming ``file:line``."""
    path = Path(path)
    if not path.is_file():
        raise TradeieError(f"{path}: file not found" if not path.exists() else f"{path}: not a file")
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise TradeieError(
                    f"{path}:{lineno}: not valid UTF-8 at byte offset {exc.start} of the line",
                    hint="re-save the file as UTF-8",
                ) from None
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                raise TradeieError(
                    f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.pos + 1})",
                    hint="each line must be one JSON object",
                ) from None


def iter_documents(path: str | os.PathLike, *, id_prefix: str | None = None) -> Iterator[tuple[int, Document]]:
    """``(line number, Document)`` for each row of a Documents JSONL file.

    A row without an ``id`` gets ``"{id_prefix}-{line}"``; without ``id_prefix`` it is an error.
    """
    for lineno, row in read_rows(path):
        yield lineno, row_document(row, f"{path}:{lineno}", None if id_prefix is None else f"{id_prefix}-{lineno}")


def read_documents(path: str | os.PathLike, *, id_prefix: str | None = None) -> list[Document]:
    """Every document of a Documents JSONL file (see :func:`iter_documents`)."""
    return [doc for _, doc in iter_documents(path, id_prefix=id_prefix)]


def row_document(row: Any, where: str, default_id: str | None = None) -> Document:
    """One parsed row as a Document; a malformed row raises naming ``where``."""
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        raise TradeieError(f"{where}: expected an object with a 'text' string", hint=_ROW_HINT)
    doc_id = row.get("id")
    if doc_id is None or doc_id == "":
        if default_id is None:
            raise TradeieError(f"{where}: the row has no 'id'", hint="give every row its document id")
        doc_id = default_id
    if not isinstance(doc_id, (str, int)):
        raise TradeieError(f"{where}: 'id' must be a string, got {doc_id!r}", hint=_ROW_HINT)
    nested = {} if row.get("meta") is None else row["meta"]
    if not isinstance(nested, dict):
        raise TradeieError(f"{where}: 'meta' must be an object, got {nested!r}", hint=_ROW_HINT)
    annotations = {}
    for key in ("entities", "relations"):
        items = annotations[key] = [] if row.get(key) is None else row[key]
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            raise TradeieError(f"{where}: '{key}' must be a list of objects", hint=_ROW_HINT)
    meta = {**nested, **{k: v for k, v in row.items() if k not in _FIELDS}}
    try:
        return Document.from_dict({**row, **annotations, "id": doc_id, "meta": meta})
    except (KeyError, TypeError, ValueError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise TradeieError(
            f"{where}: malformed entity or relation ({detail})",
            hint="entities need start, end, label; relations need head, tail, label",
        ) from None
