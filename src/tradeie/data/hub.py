"""Publish a Hub-ready dataset folder or a trained run with huggingface_hub (one commit each).

The token comes only from ``HF_TOKEN`` or huggingface_hub's stored login
(``hf auth login``); it is never printed, logged or written.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeie.errors import TradeieError

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


def repo_url(repo_id: str, revision: str | None = None, endpoint: str | None = None, repo_type: str = REPO_TYPE) -> str:
    base = f"{_endpoint(endpoint)}/{'datasets/' if repo_type == 'dataset' else ''}{repo_id}"
    return f"{base}/tree/{revision}" if revision else base


def _check_folder(folder: Path, repo_type: str) -> list[tuple[str, int]]:
    if not folder.is_dir():
        raise TradeieError(f"{folder}: no such folder", hint="build it with `tradeie dataset build --out DIR`")
    files = folder_files(folder)
    names = {name for name, _ in files}
    if repo_type == REPO_TYPE and (
        "README.md" not in names or not any(n.startswith("data/") and n.endswith(".parquet") for n in names)
    ):
        raise TradeieError(
            f"{folder}: not a Hub dataset folder (needs README.md and data/*/*.parquet)",
            hint="build it with `tradeie dataset build --out DIR`",
        )
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
        return TradeieError(
            f"push {repo_id}: HF_HUB_OFFLINE is set, no request was sent", hint="unset HF_HUB_OFFLINE to publish"
        )
    status = _status(exc)
    if status in (401, 403):
        return TradeieError(f"push {repo_id}: the Hub refused the token (HTTP {status})", hint=LOGIN_HINT)
    if isinstance(exc, HfHubHTTPError):
        server = getattr(exc, "server_message", None) or ""
        detail = f": {server.splitlines()[0]}" if server else ""
        return TradeieError(
            f"push {repo_id}: the Hub answered HTTP {status}{detail}",
            hint="check the repo id, your rights on it and the revision",
        )
    return TradeieError(
        f"push {repo_id}: cannot reach {endpoint} ({type(exc).__name__})",
        hint="check your network connection or HF_ENDPOINT",
    )


def push_folder(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    dry_run: bool = False,
    commit_message: str | None = None,
    endpoint: str | None = None,
    repo_type: str = REPO_TYPE,
) -> PushResult:
    """Create the repo (a dataset repo unless ``repo_type``) if needed and upload ``folder`` in one commit.

    ``dry_run`` needs no token and sends nothing: it returns the exact file
    list (``allow_patterns`` of the real upload) and the resolved repo URL.
    """
    folder = Path(folder)
    files = _check_folder(folder, repo_type)
    _check_repo_id(repo_id)
    base = _endpoint(endpoint)
    result = PushResult(
        repo_id=repo_id,
        repo_url=repo_url(repo_id, revision, base, repo_type),
        revision=revision,
        private=private,
        files=files,
        dry_run=dry_run,
    )
    if dry_run:
        return result
    commit_url = _upload(
        folder,
        files,
        repo_id,
        repo_type,
        base,
        private=private,
        revision=revision,
        commit_message=commit_message or f"Upload dataset ({len(files)} files) with tradeie",
    )
    return dataclasses.replace(result, dry_run=False, commit_url=commit_url)


def _upload(
    folder: Path,
    files: list[tuple[str, int]],
    repo_id: str,
    repo_type: str,
    base: str,
    *,
    private: bool,
    revision: str | None,
    commit_message: str,
) -> str | None:
    """Create the repo if needed and upload exactly ``files`` of ``folder`` in one commit."""
    token = _token()
    from huggingface_hub import HfApi

    api = HfApi(endpoint=base, token=token)
    try:
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            repo_type=repo_type,
            revision=revision,
            allow_patterns=[name for name, _ in files],
            commit_message=commit_message,
        )
    except _network_errors() as exc:  # every Hub/network failure becomes one line
        raise _translate(exc, repo_id, base) from None
    return getattr(commit, "commit_url", None)


# --------------------------------------------------------------------------- models

#: Files of a run member never uploaded (training leftovers).
_SKIP = ("checkpoint-", "runs", "optimizer.pt", "scheduler.pt", "rng_state", "trainer_state.json")


def _member(folder: Path) -> dict:
    """What one member folder of a run is, and how to load it (for the card)."""
    import json

    from tradeie.systems.base import SYSTEM_FILE

    system = (
        json.loads((folder / SYSTEM_FILE).read_text(encoding="utf-8")) if (folder / SYSTEM_FILE).is_file() else None
    )
    config = (
        json.loads((folder / "config.json").read_text(encoding="utf-8")) if (folder / "config.json").is_file() else {}
    )
    metrics = (
        json.loads((folder / "metrics.json").read_text(encoding="utf-8")) if (folder / "metrics.json").is_file() else {}
    )
    arch = " ".join(config.get("architectures") or [])
    is_transformers = bool(config) and any((folder / n).is_file() for n in ("model.safetensors", "pytorch_model.bin"))
    task = (
        (system or {}).get("task")
        or metrics.get("task")
        or ("ner" if "TokenClassification" in arch else "re" if folder.name == "re" else folder.name)
    )
    name = f"`{folder.name}`"
    if is_transformers and task == "ner":
        kind = f"transformers token classification (`{arch or 'AutoModelForTokenClassification'}`, IOB2 labels)"
        load = (
            f'`pipeline("token-classification", model=..., aggregation_strategy="first")` on {name} '
            "(see below), or `tradeie.Pipeline`"
        )
    elif is_transformers:
        kind = (
            f"transformers sequence classification (`{arch or 'AutoModelForSequenceClassification'}`) over "
            "typed-entity-marked pairs"
        )
        load = "`tradeie.Pipeline` (it builds the marked pairs); `AutoModelForSequenceClassification` for the raw model"
    elif system is not None:
        kind = f"tradeie system `{system.get('system')}` (not a transformers model; `system.json` holds its config)"
        load = f"`tradeie.systems.base.load_system({name})` or `tradeie.Pipeline`"
    else:
        kind = "tradeie files"
        load = "`tradeie.Pipeline`"
    pipeline = ((system or {}).get("config") or {}).get("pipeline")
    return {
        "folder": folder.name,
        "task": task,
        "kind": kind,
        "load": load,
        "transformers": is_transformers,
        "metrics": metrics,
        "spacy_pipeline": pipeline if isinstance(pipeline, str) else None,
    }


def run_members(run_dir: str | os.PathLike) -> list[dict]:
    """The member folders of a run (``ner/``, ``re/``, ...; hidden folders skipped), described."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise TradeieError(f"{run_dir}: no such run folder", hint="train one with `tradeie train ner --output DIR`")
    members = [
        _member(p)
        for p in sorted(run_dir.iterdir())
        if p.is_dir()
        and not p.name.startswith(".")
        and ((p / "config.json").is_file() or (p / "system.json").is_file())
    ]
    if not any(m["task"] == "ner" for m in members):
        raise TradeieError(
            f"{run_dir}: no trained NER member (ner/config.json or ner/system.json)",
            hint=f"train one with `tradeie train ner --output {run_dir}`",
        )
    return members


def stage_run(run_dir: str | os.PathLike, staging: str | os.PathLike, repo_id: str) -> list[dict]:
    """Copy a run into ``staging`` as a model repository: members, model card, the spaCy pipeline it needs."""
    import shutil

    from tradeie.data.card import make_run_card
    from tradeie.io.atomic import write_text_atomic

    run_dir, staging = Path(run_dir), Path(staging)
    members = run_members(run_dir)
    for m in members:
        shutil.copytree(
            run_dir / m["folder"],
            staging / m["folder"],
            symlinks=False,
            ignore=lambda _d, names: [n for n in names if n.startswith((".", *_SKIP))],
        )
    spacy_info = None
    needed = sorted({m["spacy_pipeline"] for m in members if m["spacy_pipeline"]})
    if needed:
        from tradeie.text.linguistic import PACKAGED_PIPELINES, _pipeline_path, pipeline_info

        name = needed[0]
        info = pipeline_info(name)
        folder = f"spacy/{name}"
        shutil.copytree(
            _pipeline_path(name),
            staging / folder,
            ignore=lambda _d, names: [n for n in names if n.startswith(".") or n == "__pycache__"],
        )
        requirement = _pinned_requirement(PACKAGED_PIPELINES.get(name, (name, ""))[0])
        write_text_atomic(staging / "requirements.txt", f"tradeie\nspacy=={info.spacy_version}\n{requirement}\n")
        spacy_info = {"name": name, "version": info.version, "spacy_version": info.spacy_version, "folder": folder}
    card = make_run_card(repo_id=repo_id, run_name=run_dir.resolve().name, members=members, spacy_pipeline=spacy_info)
    write_text_atomic(staging / "README.md", str(card))
    return members


def _pinned_requirement(dist: str) -> str:
    """The hash-pinned line of ``requirements/spacy-models.txt`` for ``dist``, else the bare name."""
    path = Path("requirements/spacy-models.txt")
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.split("==")[0].strip().lower() == dist.lower():
                return line.strip()
    return dist


def push_model(
    run_dir: str | os.PathLike, repo_id: str, *, keep: str | os.PathLike | None = None, **options: Any
) -> PushResult:
    """Upload a trained run to a model repository in one commit (``dry_run``: list it, send nothing).

    The repository mirrors the run (``ner/``, ``re/`` ...: weights, tokenizer,
    ``config.json``, training config, metrics), plus a ``README.md`` model card
    with ``model-index`` results, saying which member is a plain transformers
    model and how to load each, and the spaCy pipeline the members need.
    ``keep``: also write the staged repository to this folder; ``options``: those of
    :func:`push_folder` (``private``, ``revision``, ``dry_run``, ``commit_message``, ``endpoint``).
    """
    import shutil
    import tempfile

    _check_repo_id(repo_id)
    with tempfile.TemporaryDirectory(prefix="tradeie-push-model-") as tmp:
        staging = Path(tmp) / "repo"
        staging.mkdir()
        stage_run(run_dir, staging, repo_id)
        if keep is not None:
            from tradeie.io.atomic import atomic_directory

            with atomic_directory(keep) as out:
                shutil.copytree(staging, out, dirs_exist_ok=True)
        n_files = len(folder_files(staging))
        message = options.pop("commit_message", None) or f"Upload tradeie run {Path(run_dir).name} ({n_files} files)"
        return push_folder(staging, repo_id, repo_type="model", commit_message=message, **options)


def format_push_result(result: PushResult) -> str:
    """What a push did (or, with ``--dry-run``, would do): the files and the repository URL."""
    if result.dry_run:
        lines = [
            f"dry run: would upload {len(result.files)} files ({result.total_bytes} bytes) "
            f"to {result.repo_url} ({'private' if result.private else 'public'}) in one commit:"
        ]
        lines += [f"  {name}  {size}" for name, size in result.files]
        return "\n".join(lines)
    return f"uploaded {len(result.files)} files to {result.repo_url}" + (
        f" ({result.commit_url})" if result.commit_url else ""
    )
