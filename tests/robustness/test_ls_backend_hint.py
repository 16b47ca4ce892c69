"""`tradeie ls backend` says, in one line, that a Label Studio server it did not start must allow loopback
URLs (USE_DEFAULT_BANNED_SUBNETS=false); `tradeie ls serve` records the server it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from tradeie.cli import main
from tradeie.cli.ls import SERVE_MARKER, started_by_tradeie

LS_URL = "http://127.0.0.1:8080"
BACKEND_URL = "http://127.0.0.1:9090"


@pytest.fixture
def backend(monkeypatch, tmp_path):
    """`ls backend` with the model server, the Label Studio client and the wait loop replaced; returns
    ``run(*extra) -> (stdout, stderr)`` and the calls made to connect the backend."""
    import tradeie.labelstudio.backend as backend_module
    import tradeie.labelstudio.client as client

    connected = []
    server = SimpleNamespace(url=BACKEND_URL, model_version="tiny", shutdown=lambda: None, server_close=lambda: None)
    monkeypatch.setattr(backend_module, "serve", lambda run, port, version: server)
    monkeypatch.setattr(
        backend_module, "connect_backend", lambda conn, project, url: connected.append((conn.url, project, url)) or 3
    )
    monkeypatch.setattr(client, "connect", lambda: SimpleNamespace(url=os.environ["LABEL_STUDIO_URL"]))
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # leave pytest's own handlers alone

    def interrupt(seconds):
        raise KeyboardInterrupt  # Ctrl-C once the backend is up

    monkeypatch.setattr(time, "sleep", interrupt)
    monkeypatch.setenv("LABEL_STUDIO_URL", LS_URL)

    def run(capsys, *extra):
        capsys.readouterr()
        argv = ["ls", "backend", "--model", "run", "--data-dir", str(tmp_path / "lsdata"), *extra]
        assert main(argv) == 0
        captured = capsys.readouterr()
        return captured.out, captured.err

    return SimpleNamespace(run=run, connected=connected, data_dir=tmp_path / "lsdata")


def _marker(data_dir, url=LS_URL, pid=None, serve_pid=None):
    data_dir.mkdir(parents=True, exist_ok=True)
    payload = {"url": url, "pid": pid or os.getpid(), "serve_pid": serve_pid or os.getpid()}
    (data_dir / SERVE_MARKER).write_text(json.dumps(payload), encoding="utf-8")


def _hint_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("hint:")]


def test_a_server_tradeie_did_not_start_gets_the_banned_subnets_hint(backend, capsys):
    out, err = backend.run(capsys, "--project", "Trade news")
    [hint] = _hint_lines(err)
    assert f"Label Studio at {LS_URL} was not started by `tradeie ls serve`" in hint
    assert "USE_DEFAULT_BANNED_SUBNETS=false" in hint and BACKEND_URL in hint
    assert backend.connected == [(LS_URL, "Trade news", BACKEND_URL)]
    assert "connected to project 'Trade news' (ML backend id 3)" in out and "hint:" not in out

    out, err = backend.run(capsys)  # no --project: the user connects it by hand, the hint says the same
    [hint] = _hint_lines(err)
    assert "the Label Studio server was not started by `tradeie ls serve`" in hint


def test_the_server_of_a_running_tradeie_ls_serve_gets_no_hint(backend, capsys, monkeypatch):
    _marker(backend.data_dir, url="http://localhost:8080/")  # the same server, spelled otherwise
    assert started_by_tradeie(LS_URL, backend.data_dir)
    out, err = backend.run(capsys, "--project", "Trade news")
    assert _hint_lines(err) == [] and backend.connected

    _marker(backend.data_dir, url="http://127.0.0.1:8081")  # another server than LABEL_STUDIO_URL
    assert _hint_lines(backend.run(capsys, "--project", "Trade news")[1])

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _marker(backend.data_dir, pid=gone.pid)  # the server it started has exited
    assert not started_by_tradeie(LS_URL, backend.data_dir)
    assert _hint_lines(backend.run(capsys, "--project", "Trade news")[1])


def test_ls_serve_records_its_server_while_it_runs(monkeypatch, tmp_path, capsys):
    import tradeie.labelstudio.server as server_module

    data_dir = tmp_path / "lsdata"
    seen = []
    server = SimpleNamespace(
        url="http://127.0.0.1:18080",
        pid=os.getpid(),
        log_path=data_dir / "label-studio.log",
        process=SimpleNamespace(poll=lambda: None),
        stop=lambda: None,
    )

    def start(data, **kwargs):
        data_dir.mkdir(parents=True, exist_ok=True)
        return server

    def interrupt(seconds):
        seen.append(started_by_tradeie("http://127.0.0.1:18080", data_dir))
        raise KeyboardInterrupt

    monkeypatch.setattr(server_module, "start_server", start)
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    monkeypatch.setattr(time, "sleep", interrupt)
    monkeypatch.setenv("LABEL_STUDIO_PASSWORD", "a-password")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "0123456789abcdef0123456789abcdef01234567")
    assert main(["ls", "serve", "--data-dir", str(data_dir), "--port", "18080"]) == 0
    assert seen == [True]  # while it ran, LABEL_STUDIO_URL=that URL counted as a server tradeie started
    assert not (data_dir / SERVE_MARKER).exists()  # and the record went with it
    assert "Label Studio stopped" in capsys.readouterr().out
