"""Authentication (legacy token, personal access token, wrong key) and the server's lifecycle."""

from __future__ import annotations

import socket
import time

import pytest

from tradeie.cli import main
from tradeie.errors import TradeieError

pytestmark = pytest.mark.labelstudio


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("tradeie: error: ") and "Traceback" not in err[0]
    return err[0]


def test_server_is_bound_to_the_requested_loopback_port(ls_server):
    from tradeie.labelstudio.server import health, port_is_free

    assert ls_server.url == f"http://127.0.0.1:{ls_server.port}" and health(ls_server.url)
    assert not port_is_free(ls_server.port)
    log = ls_server.log_path.read_text()
    assert f"Starting development server at http://127.0.0.1:{ls_server.port}/" in log
    assert "is in use" not in log


def test_a_busy_port_is_refused_not_silently_moved(ls_server, ls_venv, tmp_path):
    from tradeie.labelstudio.server import new_credentials, start_server

    with pytest.raises(TradeieError, match=f"port {ls_server.port} on 127.0.0.1 is already in use"):
        start_server(tmp_path / "data", port=ls_server.port, credentials=new_credentials(), venv=ls_venv, install=False)


def test_wrong_key_gives_one_clear_error_line(ls_server, monkeypatch, workspace, capsys):
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "0123456789wrongkey")
    assert main(["ls", "pull", "--project", "anything", "--corpus", str(workspace["corpus"])]) == 2
    line = _one_error_line(capsys)
    assert f"Label Studio at {ls_server.url} rejected LABEL_STUDIO_API_KEY" in line and "HTTP 401" in line
    assert "0123456789wrongkey" not in line


def test_expired_or_forged_tokens_give_one_clear_error_line(ls_server, monkeypatch, workspace, capsys):
    import jwt

    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    now = int(time.time())
    for claims, expect in (
        ({"token_type": "refresh", "exp": now - 60, "user_id": "1"}, "has expired"),
        ({"token_type": "refresh", "exp": now + 3600, "user_id": "1"}, "rejected"),
    ):
        monkeypatch.setenv("LABEL_STUDIO_API_KEY", jwt.encode(claims, "not-the-server-key" * 3, algorithm="HS256"))
        assert main(["ls", "push", "--project", "anything", "--corpus", str(workspace["corpus"])]) == 2
        line = _one_error_line(capsys)
        assert "LABEL_STUDIO_API_KEY" in line and expect in line


def test_unreachable_server_and_missing_settings(monkeypatch, workspace, capsys):
    corpus = ["--corpus", str(workspace["corpus"])]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connection refused
        monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("LABEL_STUDIO_API_KEY", "whatever-key")
        assert main(["ls", "pull", "--project", "p", *corpus]) == 2
        assert "cannot reach Label Studio at" in _one_error_line(capsys)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    assert main(["ls", "pull", "--project", "p", *corpus]) == 2
    assert "LABEL_STUDIO_API_KEY is not set" in _one_error_line(capsys)


@pytest.mark.filterwarnings("ignore:The `parse_obj` method is deprecated:DeprecationWarning")  # in the SDK
def test_personal_access_token_works(ls_server, personal_access_token, monkeypatch, workspace, capsys):
    from tradeie.labelstudio.client import connect

    assert personal_access_token.count(".") == 2  # a JWT refresh token, not a legacy token
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", personal_access_token)
    conn = connect()
    assert conn.client.users.whoami().email == "admin@example.com"
    doc_id = sorted(workspace["docs"])[0]
    assert main(["ls", "push", doc_id, "--project", "pat project", "--corpus", str(workspace["corpus"])]) == 0
    assert "imported 1 documents" in capsys.readouterr().out
    assert (
        main(
            [
                "ls",
                "pull",
                "--project",
                "pat project",
                "--gold",
                str(workspace["gold"]),
                "--corpus",
                str(workspace["corpus"]),
                "--dry-run",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "pulled 1 tasks" in out and "1 documents not annotated yet" in out and "dry run" in out


def test_project_with_another_config_is_refused_with_the_difference(ls_env, ls_admin, workspace, capsys):
    from tradeie.schema import labeling_config

    other = labeling_config().replace('<Relation value="part_of"/>', '<Relation value="member_of"/>')
    ls_admin.projects.create(title="foreign config", label_config=other)
    doc_id = sorted(workspace["docs"])[0]
    assert main(["ls", "push", doc_id, "--project", "foreign config", "--corpus", str(workspace["corpus"])]) == 2
    err = capsys.readouterr().err
    assert "has a labeling config that differs from the schema" in err
    assert '-    <Relation value="member_of" />' in err and '+    <Relation value="part_of" />' in err
    project = next(p for p in ls_admin.projects.list() if p.title == "foreign config")
    assert list(ls_admin.tasks.list(project=project.id)) == []  # nothing imported


def test_unknown_document_and_missing_project(ls_env, workspace, capsys):
    assert main(["ls", "push", "no_such_doc", "--project", "x", "--corpus", str(workspace["corpus"])]) == 2
    assert "no document 'no_such_doc'" in _one_error_line(capsys)
    assert main(["ls", "pull", "--project", "never created", "--corpus", str(workspace["corpus"])]) == 2
    assert "no Label Studio project titled 'never created'" in _one_error_line(capsys)


def test_serve_prints_url_and_credentials_source_and_stops_on_ctrl_c(ls_venv, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from tradeie.labelstudio.server import Credentials, free_port, health

    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
    env.update(LABEL_STUDIO_PASSWORD="serve-test-password", LABEL_STUDIO_API_KEY="b" * 40)
    port = free_port()
    data = tmp_path / "served"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradeie.cli",
            "ls",
            "serve",
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--venv",
            str(ls_venv),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.rstrip())
            if "press Ctrl-C" in line or proc.poll() is not None:
                break
        text = "\n".join(lines)
        url = f"http://127.0.0.1:{port}"
        assert f"Label Studio is running at {url}" in text, text
        assert "credentials from environment (LABEL_STUDIO_PASSWORD, LABEL_STUDIO_API_KEY)" in text
        assert f"export LABEL_STUDIO_URL={url}" in text and health(url)
        creds = Credentials("admin@example.com", env["LABEL_STUDIO_PASSWORD"], env["LABEL_STUDIO_API_KEY"])
        assert creds.password not in text and creds.api_key not in text  # secrets are never printed
        from label_studio_sdk import LabelStudio

        assert LabelStudio(base_url=url, api_key=creds.api_key).users.whoami().email == creds.username
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0 and "Label Studio stopped" in rest
    assert not health(f"http://127.0.0.1:{port}", timeout=1)
