"""Atomic file and folder writes: outputs appear whole or not at all."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` via a temp file in the same folder, then rename."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: str | os.PathLike, obj: Any, *, indent: int | None = 2) -> Path:
    return write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")


def write_jsonl_atomic(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return write_text_atomic(path, text)


def read_jsonl(path: str | os.PathLike) -> Iterator[dict]:
    """Yield JSON objects from a JSONL file; a bad line raises TradeieError naming file and line."""
    from tradeie.errors import TradeieError

    path = Path(path)
    if not path.exists():
        raise TradeieError(f"{path}: file not found")
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise TradeieError(
                    f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})",
                    hint="each line must be one JSON object",
                ) from None


#: Written into every folder :func:`atomic_directory` produces; only such folders are ever replaced.
OUTPUT_MARKER = ".tradeie-output"


@contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp folder next to ``path``; on success it replaces ``path`` whole.

    On any error the temp folder is removed and ``path`` is left untouched. An
    existing ``path`` is only replaced if it is empty or was written by tradeie
    (holds :data:`OUTPUT_MARKER`), so a mistyped ``--out`` never deletes a
    user's files.
    """
    from tradeie.errors import TradeieError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise TradeieError(f"{path}: exists and is not a folder", hint="choose another output folder")
    if path.is_dir() and any(path.iterdir()) and not (path / OUTPUT_MARKER).exists():
        raise TradeieError(
            f"{path}: folder exists and holds files tradeie did not write; refusing to replace it",
            hint="choose a new or empty output folder",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        (tmp / OUTPUT_MARKER).write_text("written by tradeie; this folder is replaced whole on the next run\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
