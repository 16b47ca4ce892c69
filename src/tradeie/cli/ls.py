"""``tradeie ls push|pull|serve|backend``: the live annotation loop with a Label Studio server."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

from tradeie.cli.args import STDOUT, folder_output_help, refuse_stdout, status_print, write_json_stdout

log = logging.getLogger("tradeie.ls")

#: Written into the data dir while `tradeie ls serve` runs: the URL and pid of the server it started.
SERVE_MARKER = "tradeie-serve.json"
DEFAULT_DATA_DIR = "labelstudio-data"

_ENV = "URL and key come from LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY (a legacy token or a personal access token)."


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser(
        "ls",
        help="push documents to / pull annotations from Label Studio, or serve one",
        description="The live annotation loop with a Label Studio server. " + _ENV,
    )
    cmds = group.add_subparsers(dest="ls_command", metavar="ACTION", required=True)

    push = cmds.add_parser(
        "push",
        help="import corpus documents (optionally with model pre-annotations) into a project",
        description="Create the project with the schema's labeling config (or reuse the one with that title "
        "after checking its config), and import the documents not already there. " + _ENV,
    )
    push.add_argument("docs", nargs="*", metavar="DOC", help="document ids from the corpus (default: all)")
    push.add_argument("--project", required=True, metavar="TITLE", help="Label Studio project title")
    push.add_argument("--corpus", default="corpus/documents.jsonl", help="corpus JSONL (default: %(default)s)")
    push.add_argument(
        "--predictions",
        metavar="RUN",
        help="attach pre-annotations: a training run folder (tradeie.predict.Pipeline) or a "
        "predictions JSONL written by `tradeie predict`",
    )
    push.add_argument(
        "--model-version", default=None, help="model_version shown in Label Studio (default: the run or file name)"
    )
    push.set_defaults(func=run_push)

    pull = cmds.add_parser(
        "pull",
        help="export a project and merge its annotations into the gold folder",
        description="Export the project (a full JSON snapshot; predictions kept apart), validate every "
        "annotation, add new documents, replace changed ones after a backup, and report conflicts "
        "between annotators with agreement figures (left for adjudication). " + _ENV,
    )
    pull.add_argument("--project", required=True, metavar="TITLE", help="Label Studio project title")
    pull.add_argument("--gold", default="annotations/gold", help=folder_output_help("gold folder", "annotations/gold"))
    pull.add_argument("--corpus", default="corpus/documents.jsonl", help="corpus JSONL (default: %(default)s)")
    pull.add_argument("--backups", default=None, help=folder_output_help("backup root (default: <gold>/../backups)"))
    pull.add_argument(
        "--conflicts", default=None, help=folder_output_help("conflict reports folder (default: <gold>/../conflicts)")
    )
    pull.add_argument(
        "--report",
        "--out",
        "--output",
        dest="report",
        metavar="FILE",
        default=None,
        help="also write the merge report to this JSON file (`-`: the JSON alone to standard output, "
        "the summary lines to standard error)",
    )
    pull.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    pull.set_defaults(func=run_pull)

    serve = cmds.add_parser(
        "serve",
        help="start a local Label Studio (own venv, 127.0.0.1, no analytics)",
        description="Install label-studio 1.23 into its own venv if needed, start it bound to 127.0.0.1 "
        "with its data under the project, print the URL and where the credentials come from, "
        "and stop it on Ctrl-C. Credentials: LABEL_STUDIO_USERNAME, LABEL_STUDIO_PASSWORD and "
        "LABEL_STUDIO_API_KEY (legacy token) from the environment, else generated once into the "
        "data dir (mode 600); they apply when the data dir is first created.",
    )
    serve.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="server data folder (default: %(default)s)")
    serve.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: 8080, else a free one)")
    serve.add_argument("--venv", default=".venv-labelstudio", help="label-studio venv (default: %(default)s)")
    serve.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for the server to answer")
    serve.set_defaults(func=run_serve)

    backend = cmds.add_parser(
        "backend",
        help="serve a trained run as a Label Studio ML backend (pre-annotations on demand)",
        description="Serve RUN's pipeline (entities and relations, with scores) as a Label Studio ML backend "
        "on 127.0.0.1 (/health, /setup, /predict), and with --project connect it to that project "
        "(Settings > Model). In the Data Manager, select tasks and use 'Retrieve Predictions', or "
        "open a task. Stop with Ctrl-C. " + _ENV + " A Label Studio server not started by `tradeie ls serve` "
        "blocks loopback URLs such as the backend's unless it runs with USE_DEFAULT_BANNED_SUBNETS=false.",
    )
    backend.add_argument("--model", required=True, metavar="RUN", help="run folder, e.g. training/runs/demo")
    backend.add_argument("--port", type=int, default=9090, help="port on 127.0.0.1 (default: %(default)s; 0: free)")
    backend.add_argument(
        "--project", metavar="TITLE", default=None, help="connect the backend to this Label Studio project"
    )
    backend.add_argument(
        "--model-version", default=None, help="model_version shown in Label Studio (default: the run name)"
    )
    backend.add_argument(
        "--data-dir",
        default=DEFAULT_DATA_DIR,
        help="data folder of a server started by `tradeie ls serve`, to tell whether LABEL_STUDIO_URL is that "
        "server (default: %(default)s)",
    )
    backend.set_defaults(func=run_backend)


def run_push(args: argparse.Namespace) -> int:
    from tradeie.corpus import load_corpus
    from tradeie.labelstudio.client import connect, push_documents, select_documents

    docs = select_documents(load_corpus(args.corpus), args.docs, args.corpus)
    conn = connect()
    result = push_documents(conn, args.project, docs, predictions=args.predictions, model_version=args.model_version)
    for line in result.lines():
        print(line)
    return 0


def run_pull(args: argparse.Namespace) -> int:
    from tradeie.corpus import load_corpus
    from tradeie.io.atomic import write_json_atomic
    from tradeie.labelstudio.client import connect, export_project, require_project, user_names
    from tradeie.labelstudio.merge import merge_pulled

    from tradeie.labelstudio.client import config_difference
    from tradeie.schema import labeling_config

    for flag, value, what in (
        ("--gold", args.gold, "the gold"),
        ("--backups", args.backups, "the backup root"),
        ("--conflicts", args.conflicts, "the conflicts report"),
    ):
        refuse_stdout(value, flag, what)
    corpus = load_corpus(args.corpus)
    conn = connect()
    project = require_project(conn, args.project)
    diff = config_difference(project.label_config or "", labeling_config())
    if diff:  # pulled annotations are validated one by one below; invalid ones are reported, never merged
        log.warning(
            "project %r (id %d) has a labeling config that differs from the schema (%d lines differ; "
            "`tradeie ls push` shows them): annotations outside the schema are reported as invalid",
            args.project,
            project.id,
            sum(1 for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")),
        )
    tasks = export_project(conn, project.id)
    report = merge_pulled(
        tasks,
        corpus,
        args.gold,
        backups_dir=args.backups,
        conflicts_dir=args.conflicts,
        annotator_names=user_names(conn),
        dry_run=args.dry_run,
        source=f"{conn.project_url(project.id)} ({args.project})",
    )
    say = status_print(args.report)
    say(f"pulled {len(tasks)} tasks from project {args.project!r} ({conn.project_url(project.id)})")
    for line in report.lines():
        say(line)
    if args.report == STDOUT:
        write_json_stdout(report.to_dict())
    elif args.report:
        write_json_atomic(args.report, report.to_dict())
    return 0


def run_serve(args: argparse.Namespace) -> int:
    import signal
    import time
    from pathlib import Path

    from tradeie.labelstudio.server import DEFAULT_PORT, free_port, port_is_free, resolve_credentials, start_server

    def interrupt(*_) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and SIGTERM stop the server, also when started in the background (where SIGINT is ignored)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)
    fresh = not (Path(args.data_dir) / "label_studio.sqlite3").exists()
    credentials = resolve_credentials(args.data_dir)
    port = args.port or (DEFAULT_PORT if port_is_free(DEFAULT_PORT) else free_port())
    print(
        f"starting Label Studio on 127.0.0.1:{port} (data: {args.data_dir}"
        + ("; the first start takes about a minute)" if fresh else ")"),
        flush=True,
    )
    server = start_server(args.data_dir, port=port, credentials=credentials, venv=args.venv, timeout=args.timeout)
    marker = Path(args.data_dir) / SERVE_MARKER
    try:
        write_serve_marker(marker, server.url, server.pid)
        print(f"Label Studio is running at {server.url} (pid {server.pid}, log {server.log_path})")
        print(
            f"log in as {credentials.username}; credentials from {credentials.source}"
            + ("" if fresh else " (an existing data dir keeps the credentials of its first start)")
        )
        print(f"export LABEL_STUDIO_URL={server.url}")
        print(
            "LABEL_STUDIO_API_KEY from this environment works for `tradeie ls push/pull` (so does a personal "
            "access token from Account & Settings)"
        )
        print("press Ctrl-C to stop", flush=True)
        while server.process is None or server.process.poll() is None:
            time.sleep(1.0)
        print(f"Label Studio exited with code {server.process.returncode}; see {server.log_path}")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        marker.unlink(missing_ok=True)
        server.stop()
        print("Label Studio stopped")


def run_backend(args: argparse.Namespace) -> int:
    import signal
    import sys
    import time

    from tradeie.labelstudio.backend import connect_backend, serve

    def interrupt(*_) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)
    server = serve(args.model, args.port, args.model_version)
    try:
        print(f"ML backend for {args.model} (model_version {server.model_version}) at {server.url}", flush=True)
        if args.project:
            from tradeie.labelstudio.client import connect

            conn = connect()
            if not started_by_tradeie(conn.url, args.data_dir):
                print(banned_subnets_hint(conn.url, server.url), file=sys.stderr, flush=True)
            backend_id = connect_backend(conn, args.project, server.url)
            print(f"connected to project {args.project!r} (ML backend id {backend_id})", flush=True)
        else:
            print(f"connect it in Label Studio: project Settings > Model > Connect Model, URL {server.url}")
            if not started_by_tradeie(None, args.data_dir):
                print(banned_subnets_hint(None, server.url), file=sys.stderr, flush=True)
        print("press Ctrl-C to stop", flush=True)
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        return 0
    finally:
        server.shutdown()
        server.server_close()
        print("ML backend stopped")


# --------------------------------------------------------------------------- which server tradeie started


def write_serve_marker(path: Path, url: str, pid: int) -> None:
    """Record, while `tradeie ls serve` runs, the URL and pid of the server it started (its data dir)."""
    from tradeie.io.atomic import write_json_atomic

    write_json_atomic(path, {"url": url, "pid": pid, "serve_pid": os.getpid()})


def _same_server(a: str, b: str) -> bool:
    """Two Label Studio URLs name the same server (``localhost`` and ``127.0.0.1`` alike)."""
    from urllib.parse import urlsplit

    def key(url: str) -> tuple[str, int | None]:
        parts = urlsplit(url.strip().rstrip("/"))
        host = (parts.hostname or "").lower()
        return ("127.0.0.1" if host in ("localhost", "::1") else host), parts.port or {"https": 443}.get(
            parts.scheme, 80
        )

    return key(a) == key(b)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def started_by_tradeie(url: str | None, data_dir: str | os.PathLike = DEFAULT_DATA_DIR) -> bool:
    """Whether a running `tradeie ls serve` started the server at ``url`` (any, for None): its data dir's
    marker names that URL and its server is still alive. Such a server allows loopback ML backends."""
    try:
        marker = json.loads((Path(data_dir) / SERVE_MARKER).read_text(encoding="utf-8"))
        alive = _alive(int(marker["serve_pid"])) and _alive(int(marker["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return alive and (url is None or _same_server(url, str(marker["url"])))


def banned_subnets_hint(url: str | None, backend_url: str) -> str:
    """One line: a server not started by tradeie must allow loopback URLs to reach the backend."""
    server = f"Label Studio at {url} was" if url else "the Label Studio server was"
    return (
        f"hint: {server} not started by `tradeie ls serve`: it reaches the backend at {backend_url} only if it "
        "runs with USE_DEFAULT_BANNED_SUBNETS=false (Label Studio blocks loopback addresses by default); "
        "restart it with that variable set if predictions do not arrive"
    )
