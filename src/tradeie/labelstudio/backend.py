"""A trained run served as a Label Studio ML backend (pre-annotations on demand).

The endpoints Label Studio 1.23 calls (``label_studio/ml/api_connector.py``):
``GET /health`` (connection check), ``POST /setup`` (returns the
``model_version``), ``POST /predict`` (``{"tasks": [...]}`` in,
``{"results": [{"result": [...], "score": s, "model_version": v}, ...]}`` out,
one per task, in order), ``GET /versions``; ``/train`` and ``/webhook`` answer
that training is not supported here. The server binds to 127.0.0.1 only and
uses the standard library's threading HTTP server; predictions are computed
one request at a time by :class:`tradeie.predict.Pipeline`.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tradeie.document import Document
from tradeie.errors import TradeieError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 9090


def task_document(task: dict[str, Any], index: int) -> Document:
    """The document of one Label Studio task (``data.text``; id from ``data.doc_id`` or the task id)."""
    from tradeie.schema import LS_TEXT_NAME

    data = task.get("data") or {}
    text = data.get(LS_TEXT_NAME)
    if not isinstance(text, str):
        raise TradeieError(
            f"task {task.get('id', index)}: no data.{LS_TEXT_NAME} string",
            hint="use the labeling config from `tradeie annotations config`",
        )
    return Document(id=str(data.get("doc_id") or task.get("id") or index), text=text)


def predict_tasks(pipeline, tasks: list[dict[str, Any]], model_version: str) -> list[dict[str, Any]]:
    """One Label Studio prediction (spans and relations with scores) per task, in order."""
    from tradeie.labelstudio.format import document_result

    docs = [task_document(task, i) for i, task in enumerate(tasks)]
    results = []
    for pred in pipeline.predict_documents(docs):
        scores = [e.score for e in pred.entities if e.score is not None]
        results.append(
            {
                "result": document_result(pred, with_scores=True),
                "model_version": model_version,
                "score": round(sum(scores) / len(scores), 6) if scores else None,
            }
        )
    return results


class BackendServer(ThreadingHTTPServer):
    """The HTTP server; ``pipeline`` and ``model_version`` are shared by the request handlers."""

    daemon_threads = True

    def __init__(self, pipeline, model_version: str, port: int = 0) -> None:
        super().__init__((HOST, port), _Handler)
        self.pipeline = pipeline
        self.model_version = model_version
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}"

    def start(self) -> threading.Thread:
        """Serve in a background thread (stop with :meth:`shutdown`)."""
        thread = threading.Thread(target=self.serve_forever, name="tradeie-ls-backend", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: BackendServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the base class's name)
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        return json.loads(raw or b"{}")

    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        path = self.path.split("?")[0].rstrip("/")
        if path in ("", "/health"):
            self._send(
                200, {"status": "UP", "model_class": "tradeie.Pipeline", "model_version": self.server.model_version}
            )
        elif path == "/versions":
            self._send(200, {"versions": [self.server.model_version]})
        else:
            self._send(404, {"error": f"unknown endpoint {path}"})

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?")[0].rstrip("/")
        try:
            body = self._body()
        except (ValueError, UnicodeDecodeError):
            self._send(400, {"error": "request body is not JSON"})
            return
        if path == "/setup":
            self._send(200, {"model_version": self.server.model_version})
        elif path == "/validate":
            self._send(200, {"status": "ok"})
        elif path == "/predict":
            tasks = body.get("tasks") if isinstance(body, dict) else None
            if not isinstance(tasks, list):
                self._send(400, {"error": 'predict: expected {"tasks": [...]}'})
                return
            try:
                with self.server.lock:
                    results = predict_tasks(self.server.pipeline, tasks, self.server.model_version)
            except TradeieError as exc:
                self._send(400, {"error": str(exc)})
                return
            log.info("predicted %d task(s)", len(tasks))
            self._send(200, {"results": results, "model_version": self.server.model_version})
        elif path in ("/train", "/webhook"):
            self._send(
                200,
                {
                    "status": "ignored",
                    "message": "tradeie's backend does not train; use `tradeie ls pull` and `tradeie train`",
                },
            )
        else:
            self._send(404, {"error": f"unknown endpoint {path}"})


def serve(run_dir: str, port: int = DEFAULT_PORT, model_version: str | None = None) -> BackendServer:
    """Load ``run_dir`` and return a started backend server bound to 127.0.0.1:``port`` (0: a free port)."""
    from tradeie.predict import Pipeline

    pipeline = Pipeline.load(run_dir)
    try:
        server = BackendServer(pipeline, model_version or pipeline.name, port)
    except OSError as exc:
        raise TradeieError(
            f"ML backend: cannot listen on {HOST}:{port} ({exc.strerror})", hint="choose another --port"
        ) from None
    server.start()
    return server


def connect_backend(conn, project_title: str, url: str, title: str | None = None) -> int:
    """Attach the backend at ``url`` to the project (reusing one already there); return its id."""
    from tradeie.labelstudio.client import require_project

    project = require_project(conn, project_title)
    with conn.calling("listing ML backends"):
        existing = [b for b in conn.client.ml.list(project=project.id) if (b.url or "").rstrip("/") == url]
    if existing:
        return existing[0].id
    with conn.calling(f"connecting the ML backend {url}"):
        backend = conn.client.ml.create(project=project.id, url=url, title=title or "tradeie", is_interactive=True)
    return backend.id
