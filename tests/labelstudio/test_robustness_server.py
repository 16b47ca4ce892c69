"""Faults around a real Label Studio server: a restart between push and pull, two pulls racing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tradeie.cli import main
from tradeie.labelstudio.format import read_export

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]

SURFACE = "Japan"


def _annotate(client, project_title: str, doc_id: str, text: str) -> None:
    project = next(p for p in client.projects.list() if p.title == project_title)
    task = next(t for t in client.tasks.list(project=project.id, fields="all") if t.data["doc_id"] == doc_id)
    start = text.index(SURFACE)
    client.annotations.create(
        task.id,
        result=[
            {
                "id": "r1",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {"start": start, "end": start + len(SURFACE), "text": SURFACE, "labels": ["ACTOR"]},
            }
        ],
    )


def test_server_restarted_between_push_and_pull(ls_env, ls_venv, ls_admin, workspace, capsys):
    from tradeie.labelstudio.server import start_server

    server = ls_env  # the session's server: stopped and started again on the same data dir and port
    doc_id = workspace["new_doc_id"]
    corpus = ["--corpus", str(workspace["corpus"])]
    assert main(["ls", "push", doc_id, "--project", "restart", *corpus]) == 0
    _annotate(ls_admin, "restart", doc_id, workspace["docs"][doc_id].text)
    server.stop()
    try:
        capsys.readouterr()
        assert main(["ls", "pull", "--project", "restart", "--gold", str(workspace["gold"]), *corpus]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"cannot reach Label Studio at {server.url}" in err[0]
        assert not (workspace["gold"] / f"{doc_id}.json").exists()
    finally:
        again = start_server(
            server.data_dir, port=server.port, credentials=server.credentials, venv=ls_venv, install=False
        )
        server.process, server.pid = again.process, again.pid  # the session fixture stops this one at the end
    assert main(["ls", "pull", "--project", "restart", "--gold", str(workspace["gold"]), *corpus]) == 0
    [doc] = read_export(workspace["gold"] / f"{doc_id}.json").documents
    assert [e.text for e in doc.entities] == [SURFACE]


def test_two_pulls_racing_on_one_gold_folder(ls_env, ls_admin, workspace):
    doc_id = workspace["new_doc_id"]
    corpus = ["--corpus", str(workspace["corpus"])]
    assert main(["ls", "push", doc_id, "--project", "race", *corpus]) == 0
    _annotate(ls_admin, "race", doc_id, workspace["docs"][doc_id].text)
    gold_files = sorted(p.name for p in workspace["gold"].iterdir())
    cmd = [
        sys.executable,
        "-m",
        "tradeie.cli",
        "ls",
        "pull",
        "--project",
        "race",
        "--gold",
        str(workspace["gold"]),
        *corpus,
    ]
    env = {**os.environ, "LABEL_STUDIO_URL": ls_env.url, "LABEL_STUDIO_API_KEY": ls_env.credentials.api_key}
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert sorted(p.name for p in workspace["gold"].iterdir()) == sorted([*gold_files, f"{doc_id}.json"])
    [doc] = read_export(workspace["gold"] / f"{doc_id}.json").documents
    assert [e.text for e in doc.entities] == [SURFACE]
    assert not (workspace["root"] / "annotations" / "backups").exists()  # the second pull found it unchanged
