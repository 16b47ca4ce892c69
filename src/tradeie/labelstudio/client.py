"""Talking to a Label Studio server with label-studio-sdk 2.x.

URL and key come only from ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``.
The key may be a legacy token or a personal access token (a JWT refresh
token, which the SDK exchanges for short-lived access tokens at
``/api/token/refresh/``). Every server or network failure becomes one
:class:`TradeieError` line; the key never appears in messages.
"""

from __future__ import annotations

import difflib
import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradeie.document import Document, text_sha256
from tradeie.errors import TradeieError

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

ENV_URL = "LABEL_STUDIO_URL"
ENV_KEY = "LABEL_STUDIO_API_KEY"
_KEY_HINT = f"set {ENV_KEY} to a valid legacy token or personal access token (Label Studio: Account & Settings)"


class Connection:
    """An authenticated SDK client and the URL it talks to."""

    def __init__(self, client: LabelStudio, url: str) -> None:
        self.client = client
        self.url = url

    @contextmanager
    def calling(self, action: str) -> Iterator[None]:
        with api_errors(self.url, action):
            yield

    def project_url(self, project_id: int) -> str:
        return f"{self.url}/projects/{project_id}"


@contextmanager
def api_errors(url: str, action: str) -> Iterator[None]:
    """Turn SDK/HTTP failures while doing ``action`` into one clear TradeieError."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        yield
    except ApiError as exc:
        status = exc.status_code
        detail = _detail(exc.body)
        if status == 401:
            raise TradeieError(
                f"Label Studio at {url} rejected {ENV_KEY} while {action} (HTTP 401: {detail})", hint=_KEY_HINT
            ) from None
        if status == 403:
            raise TradeieError(
                f"Label Studio at {url}: permission denied while {action} (HTTP 403: {detail})",
                hint="use the key of a user with access to this project",
            ) from None
        raise TradeieError(
            f"Label Studio at {url}: {action} failed (HTTP {status}: {detail})", hint="check the server log"
        ) from None
    except httpx.HTTPError as exc:
        raise TradeieError(
            f"cannot reach Label Studio at {url} while {action} ({type(exc).__name__}: {exc})",
            hint=f"start one with `tradeie ls serve` or set {ENV_URL}",
        ) from None
    except json.JSONDecodeError:
        raise TradeieError(
            f"Label Studio at {url} answered {action} with something that is not JSON",
            hint=f"check that {ENV_URL} points at a Label Studio server",
        ) from None


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        text = body.get("detail") or body.get("validation_errors") or body
    else:
        text = body
    text = " ".join(str(text).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def connect(timeout: float = 60.0) -> Connection:
    """Connect with ``LABEL_STUDIO_URL``/``LABEL_STUDIO_API_KEY`` and check the key once."""
    url = os.environ.get(ENV_URL, "").strip().rstrip("/")
    key = os.environ.get(ENV_KEY, "").strip()
    if not url:
        raise TradeieError(
            f"{ENV_URL} is not set", hint=f"export {ENV_URL}=http://127.0.0.1:8080 (the URL `tradeie ls serve` prints)"
        )
    if not url.startswith(("http://", "https://")):
        raise TradeieError(f"{ENV_URL}={url!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:8080")
    if not key:
        raise TradeieError(f"{ENV_KEY} is not set", hint=_KEY_HINT)
    from label_studio_sdk import LabelStudio

    with api_errors(url, "reading the API key"):
        # the SDK decodes a JWT key here and refuses an expired one
        client = LabelStudio(base_url=url, api_key=key, timeout=timeout)
    conn = Connection(client, url)
    with conn.calling("checking the API key"):
        client.users.whoami()
    return conn


# --------------------------------------------------------------------------- projects


def canonical_config(xml: str) -> str:
    """A labeling config in a canonical form (attribute order and whitespace ignored)."""
    try:
        return ET.canonicalize(xml, strip_text=True)
    except ET.ParseError as exc:
        raise TradeieError(f"labeling config is not valid XML ({exc})", hint="fix the project's labeling config")


def config_difference(actual: str, expected: str) -> list[str]:
    """Unified-diff lines between two labeling configs; empty if they are equivalent."""
    if canonical_config(actual) == canonical_config(expected):
        return []

    def lines(xml: str) -> list[str]:
        element = ET.fromstring(canonical_config(xml))
        ET.indent(element)
        return ET.tostring(element, encoding="unicode").splitlines()

    return list(difflib.unified_diff(lines(actual), lines(expected), "project", "schema", lineterm="", n=1))


def _config_mismatch(title: str, project_id: int, diff: list[str]) -> TradeieError:
    return TradeieError(
        f"project {title!r} (id {project_id}) has a labeling config that differs from the schema:\n"
        + "\n".join(f"    {line}" for line in diff),
        hint="use another --project title, or set the project's labeling config to the schema's "
        "(`tradeie annotations config` writes it)",
    )


def find_project(conn: Connection, title: str):
    """The project titled exactly ``title``, or None; several with that title is an error."""
    with conn.calling(f"listing projects titled {title!r}"):
        matches = [p for p in conn.client.projects.list(title=title) if p.title == title]
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise TradeieError(
            f"{len(matches)} Label Studio projects are titled {title!r} (ids {ids})",
            hint="rename all but one in Label Studio",
        )
    if not matches:
        return None
    with conn.calling(f"reading project {matches[0].id}"):
        return conn.client.projects.get(matches[0].id)


def require_project(conn: Connection, title: str):
    project = find_project(conn, title)
    if project is None:
        raise TradeieError(
            f"no Label Studio project titled {title!r} at {conn.url}",
            hint="push documents first with `tradeie ls push --project TITLE`",
        )
    return project


def ensure_project(conn: Connection, title: str, label_config: str) -> tuple[int, bool]:
    """(project id, created?): reuse the project titled ``title`` if its config matches, else create it."""
    project = find_project(conn, title)
    if project is not None:
        diff = config_difference(project.label_config or "", label_config)
        if diff:
            raise _config_mismatch(title, project.id, diff)
        return project.id, False
    with conn.calling(f"creating project {title!r}"):
        created = conn.client.projects.create(
            title=title, label_config=label_config, description="Created by tradeie ls push"
        )
    return created.id, True


def project_tasks(conn: Connection, project_id: int) -> list[dict]:
    """Every task of a project as ``{"id", "data"}``."""
    with conn.calling(f"listing the tasks of project {project_id}"):
        return [
            {"id": t.id, "data": dict(t.data or {})} for t in conn.client.tasks.list(project=project_id, fields="all")
        ]


def import_tasks(conn: Connection, project_id: int, tasks: list[dict]) -> list[int]:
    """Import tasks (with any predictions) into a project; return the new task ids."""
    if not tasks:
        return []
    with conn.calling(f"importing {len(tasks)} tasks into project {project_id}"):
        response = conn.client.projects.import_tasks(project_id, request=tasks, return_task_ids=True)
    ids = list(response.task_ids or [])
    if response.task_count is not None and response.task_count != len(tasks):
        raise TradeieError(
            f"Label Studio imported {response.task_count} of {len(tasks)} tasks into project {project_id}",
            hint="check the server log; nothing was skipped on purpose",
        )
    return ids


def export_project(conn: Connection, project_id: int, timeout: float = 300.0) -> list[dict]:
    """A full JSON export snapshot of a project: every task, annotations and full predictions.

    ``projects.exports.as_json`` returns predictions as ids only, so this creates
    an export snapshot with ``serialization_options.predictions.only_id = False``.
    """
    exports = conn.client.projects.exports
    with conn.calling(f"exporting project {project_id}"):
        snapshot = exports.create(
            project_id,
            title="tradeie ls pull",
            serialization_options={"predictions": {"only_id": False}},
            task_filter_options={"only_with_annotations": False},
        )
        deadline = time.monotonic() + timeout
        while snapshot.status != "completed":
            if snapshot.status == "failed":
                raise TradeieError(
                    f"Label Studio export {snapshot.id} of project {project_id} failed", hint="check the server log"
                )
            if time.monotonic() > deadline:
                raise TradeieError(
                    f"Label Studio export {snapshot.id} of project {project_id} not ready after "
                    f"{timeout:.0f} s (status {snapshot.status})",
                    hint="try again later",
                )
            time.sleep(0.5)
            snapshot = exports.get(project_id, snapshot.id)
        payload = b"".join(exports.download(project_id, snapshot.id, export_type="JSON"))
    tasks = json.loads(payload.decode("utf-8"))
    if not isinstance(tasks, list):
        raise TradeieError(
            f"Label Studio export {snapshot.id} of project {project_id} is not a task list",
            hint="check the server version (label-studio 1.23 is supported)",
        )
    return tasks


def user_names(conn: Connection) -> dict[int, str]:
    """User id -> email (or username) for naming annotators in reports; empty if not allowed."""
    try:
        with conn.calling("listing users"):
            return {u.id: (u.email or u.username or str(u.id)) for u in conn.client.users.list()}
    except TradeieError:
        return {}


# --------------------------------------------------------------------------- push


def select_documents(corpus: list[Document], ids: Sequence[str], corpus_path: str | Path) -> list[Document]:
    """The corpus documents named by ``ids`` (all of them when ``ids`` is empty)."""
    if not ids:
        return list(corpus)
    by_id = {d.id: d for d in corpus}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise TradeieError(
            f"{corpus_path}: no document {unknown[0]!r}"
            + (f" (and {len(unknown) - 1} more unknown ids)" if len(unknown) > 1 else ""),
            hint="use ids from the corpus: " + ", ".join(sorted(by_id)[:8]) + (" ..." if len(by_id) > 8 else ""),
        )
    return [by_id[i] for i in dict.fromkeys(ids)]


def pre_annotations(source: str | Path, docs: list[Document]) -> dict[str, Document]:
    """Model pre-annotations for ``docs``: from a run folder (Pipeline) or a predictions JSONL."""
    path = Path(source)
    if path.is_dir():
        from tradeie.predict import Pipeline

        predicted = Pipeline.load(path).predict_documents(docs)
        return {doc.id: _prediction_document(pred, doc, str(path)) for doc, pred in zip(docs, predicted)}
    if path.is_file():
        from tradeie.io.jsonl import iter_documents

        wanted = {d.id: d for d in docs}
        return {
            pred.id: _prediction_document(pred, wanted[pred.id], f"{path}:{lineno}")
            for lineno, pred in iter_documents(path, id_prefix=path.stem)
            if pred.id in wanted
        }
    raise TradeieError(
        f"{path}: predictions not found", hint="give a training run folder or the JSONL written by `tradeie predict`"
    )


def _prediction_document(pred: Document, doc: Document, where: str) -> Document:
    """A prediction checked against ``doc``'s text and the prediction rules of
    :mod:`tradeie.annotations.validate`; entities without an id get ``p1``, ``p2``..."""
    from tradeie.annotations.validate import PREDICTIONS, check_document, raise_first_error

    if pred.text != doc.text:
        raise TradeieError(
            f"{where}: prediction for {doc.id!r} was made on a different text "
            f"(sha256 {text_sha256(pred.text)[:12]} vs corpus {text_sha256(doc.text)[:12]})",
            hint="predict again on the current corpus",
        )
    entities = [e if e.id else replace(e, id=f"p{i}") for i, e in enumerate(pred.entities, 1)]
    checked = Document(id=doc.id, text=doc.text, entities=tuple(entities), relations=pred.relations)
    raise_first_error(check_document(checked, PREDICTIONS), where)
    return checked


@dataclass
class ProjectPushResult:
    title: str
    project_id: int
    url: str
    created: bool
    imported: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: already in the project, but imported with a different text (the corpus changed since)
    stale: list[str] = field(default_factory=list)
    with_predictions: int = 0
    model_version: str | None = None

    def lines(self) -> list[str]:
        out = [
            ("created" if self.created else "reusing") + f" project {self.title!r} (id {self.project_id}) at {self.url}"
        ]
        out += [
            f"warning: {d} is in the project with a different text (the corpus changed); not re-imported: "
            "annotations pulled for it will be reported as stale"
            for d in self.stale
        ]
        predictions = (
            f", {self.with_predictions} with pre-annotations from {self.model_version}" if self.model_version else ""
        )
        out.append(
            f"imported {len(self.imported)} documents{predictions}; {len(self.skipped)} already present were skipped"
        )
        return out


def push_documents(
    conn: Connection,
    title: str,
    docs: list[Document],
    *,
    predictions: str | Path | None = None,
    model_version: str | None = None,
) -> ProjectPushResult:
    """Import ``docs`` not yet in project ``title`` (created with the schema's config if missing).

    Each task carries the document id and text hash in ``data``; with
    ``predictions`` it carries the model's spans and relations (per-region
    scores, ``model_version``) as pre-annotations.
    """
    from tradeie.labelstudio.format import task_doc_id, task_text_sha256, to_tasks
    from tradeie.schema import labeling_config

    config = labeling_config()
    project = find_project(conn, title)
    present: dict[str, str | None] = {}
    if project is not None:
        diff = config_difference(project.label_config or "", config)
        if diff:
            raise _config_mismatch(title, project.id, diff)
        for index, task in enumerate(project_tasks(conn, project.id)):
            present[task_doc_id(task, index)] = task_text_sha256(task)
    new = [d for d in docs if d.id not in present]
    preds: dict[str, Document] = {}
    if predictions is not None and new:  # before creating anything: a failing model leaves no half-made project
        preds = pre_annotations(predictions, new)
        model_version = model_version or Path(predictions).stem
    if project is None:
        project_id, created = ensure_project(conn, title, config)
    else:
        project_id, created = project.id, False
    import_tasks(conn, project_id, to_tasks(new, preds, model_version=model_version, include_annotations=False))
    return ProjectPushResult(
        title=title,
        project_id=project_id,
        url=conn.project_url(project_id),
        created=created,
        imported=[d.id for d in new],
        skipped=[d.id for d in docs if d.id in present],
        stale=[d.id for d in docs if present.get(d.id) not in (None, d.text_sha256)],
        with_predictions=sum(1 for d in new if d.id in preds),
        model_version=model_version if preds else None,
    )
