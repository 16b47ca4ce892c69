"""Publish a Hub-ready dataset folder with huggingface_hub (one commit).

The token comes only from ``HF_TOKEN`` or huggingface_hub's stored login
(``hf auth login``); it is never printed, logged or written.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TradeieError

log = logging.getLogger(__name__)

REPO_TYPE = "dataset"
LOGIN_HINT = "set HF_TOKEN to a token with write access, or run `hf auth login`"


@dataclass(frozen=True)
class PushResult:
    """What was (or, for a dry run, would be) uploaded."""

    repo_id: str
    repo_url: str
    revision: str | None
    private: bool
    files: list[tuple[str, int]] = field(default_factory=list)
    dry_run: bool = True
    commit_url: str | None = None

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)


def folder_files(folder: str | os.PathLike) -> list[tuple[str, int]]:
    """Every regular file under ``folder`` (relative POSIX path, size), hidden files and folders excluded."""
    folder = Path(folder)
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file() or path.is_symlink():
            continue
        out.append((rel.as_posix(), path.stat().st_size))
    return out


def _endpoint(endpoint: str | None) -> str:
    from huggingface_hub import constants

    return (endpoint or constants.ENDPOINT).rstrip("/")


def repo_url(repo_id: str, revision: str | None = None, endpoint: str | None = None) -> str:
    base = f"{_endpoint(endpoint)}/datasets/{repo_id}"
    return f"{base}/tree/{revision}" if revision else base


def _check_folder(folder: Path) -> list[tuple[str, int]]:
    if not folder.is_dir():
        raise TradeieError(f"{folder}: no such folder", hint="build it with `tradeie dataset build --out DIR`")
    files = folder_files(folder)
    names = {name for name, _ in files}
    if "README.md" not in names or not any(n.startswith("data/") and n.endswith(".parquet") for n in names):
        raise TradeieError(f"{folder}: not a Hub dataset folder (needs README.md and data/*/*.parquet)",
                           hint="build it with `tradeie dataset build --out DIR`")
    return files


def _check_repo_id(repo_id: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise TradeieError(f"repo id {repo_id!r}: {exc}", hint="use OWNER/NAME, e.g. my-org/tradeie") from None
    if "/" not in repo_id:
        raise TradeieError(f"repo id {repo_id!r}: no owner", hint="use OWNER/NAME, e.g. my-org/tradeie")


def _token() -> str:
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise TradeieError("push: no Hugging Face token found", hint=LOGIN_HINT)
    return token


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _network_errors() -> tuple[type[BaseException], ...]:
    """OSError (HfHubHTTPError, offline mode, requests) plus the HTTP client's own error base class."""
    import importlib

    errors: list[type[BaseException]] = [OSError]
    for module in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(module).HTTPError)
        except (ImportError, AttributeError):
            continue
    return tuple(errors)


def _translate(exc: BaseException, repo_id: str, endpoint: str) -> TradeieError:
    """One clear line for a failed Hub call (never including the token)."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if isinstance(exc, OfflineModeIsEnabled):
        return TradeieError(f"push {repo_id}: HF_HUB_OFFLINE is set, no request was sent",
                            hint="unset HF_HUB_OFFLINE to publish")
    status = _status(exc)
    if status in (401, 403):
        return TradeieError(f"push {repo_id}: the Hub refused the token (HTTP {status})", hint=LOGIN_HINT)
    if isinstance(exc, HfHubHTTPError):
        server = getattr(exc, "server_message", None) or ""
        detail = f": {server.splitlines()[0]}" if server else ""
        return TradeieError(f"push {repo_id}: the Hub answered HTTP {status}{detail}",
                            hint="check the repo id, your rights on it and the revision")
    return TradeieError(f"push {repo_id}: cannot reach {endpoint} ({type(exc).__name__})",
                        hint="check your network connection or HF_ENDPOINT")


def push_folder(folder: str | os.PathLike, repo_id: str, *, private: bool = False, revision: str | None = None,
                dry_run: bool = False, commit_message: str | None = None,
                endpoint: str | None = None) -> PushResult:
    """Create the dataset repo if needed and upload ``folder`` in one commit.

    ``dry_run`` needs no token and sends nothing: it returns the exact file
    list (``allow_patterns`` of the real upload) and the resolved repo URL.
    """
    folder = Path(folder)
    files = _check_folder(folder)
    _check_repo_id(repo_id)
    base = _endpoint(endpoint)
    result = PushResult(repo_id=repo_id, repo_url=repo_url(repo_id, revision, base), revision=revision,
                        private=private, files=files, dry_run=dry_run)
    if dry_run:
        return result
    token = _token()
    from huggingface_hub import HfApi

    api = HfApi(endpoint=base, token=token)
    try:
        api.create_repo(repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type=REPO_TYPE, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id, folder_path=str(folder), repo_type=REPO_TYPE, revision=revision,
            allow_patterns=[name for name, _ in files],
            commit_message=commit_message or f"Upload dataset ({len(files)} files) with tradeie",
        )
    except _network_errors() as exc:  # every Hub/network failure becomes one line
        raise _translate(exc, repo_id, base) from None
    return PushResult(repo_id=repo_id, repo_url=result.repo_url, revision=revision, private=private,
                      files=files, dry_run=False, commit_url=getattr(commit, "commit_url", None))
