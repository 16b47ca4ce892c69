"""Server helpers that need no running Label Studio: credentials, stopping by process group, configs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradeie.labelstudio.server import Credentials, Server, resolve_credentials, server_env, stop_server


def test_credentials_come_from_the_environment_only(tmp_path, monkeypatch):
    from tradeie.errors import TradeieError

    for name in ("LABEL_STUDIO_USERNAME", "LABEL_STUDIO_PASSWORD", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(TradeieError, match="LABEL_STUDIO_PASSWORD and LABEL_STUDIO_API_KEY not set"):
        resolve_credentials(tmp_path)
    monkeypatch.setenv("LABEL_STUDIO_PASSWORD", "from-the-env-1")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "a" * 40)
    creds = resolve_credentials(tmp_path)
    assert (creds.password, creds.api_key, creds.username) == ("from-the-env-1", "a" * 40, "admin@example.com")
    assert creds.source == "environment (LABEL_STUDIO_PASSWORD, LABEL_STUDIO_API_KEY)"
    assert creds.password not in repr(creds) and creds.api_key not in repr(creds)
    assert list(tmp_path.iterdir()) == []  # nothing written
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "header.payload.signature")  # a PAT cannot be the admin token
    with pytest.raises(TradeieError, match="must be a legacy token"):
        resolve_credentials(tmp_path)


def test_server_environment_is_non_interactive_loopback_and_telemetry_free(tmp_path, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_HOST", "http://0.0.0.0:1")  # a stray setting is not passed on
    env = server_env(tmp_path, Credentials("u@example.com", "pw-123456", "t" * 40))
    assert env["LATEST_VERSION_CHECK"] == "false" and env["COLLECT_ANALYTICS"] == "false"
    assert env["SENTRY_DSN"] == "" and env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true"
    assert (env["LABEL_STUDIO_USERNAME"], env["LABEL_STUDIO_USER_TOKEN"]) == ("u@example.com", "t" * 40)
    assert env["LABEL_STUDIO_BASE_DATA_DIR"] == str(tmp_path) and "LABEL_STUDIO_HOST" not in env


def test_stop_ends_the_whole_process_group(tmp_path):
    script = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(child.pid, flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True)
    child = int(proc.stdout.readline())
    server = Server(
        url="",
        port=0,
        pid=proc.pid,
        data_dir=tmp_path,
        log_path=tmp_path / "log",
        credentials=Credentials("u", "p", "k" * 40),
        process=proc,
    )
    stop_server(server, timeout=5)
    assert proc.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
    stop_server(server)  # stopping twice is harmless


def test_config_comparison_ignores_layout_and_shows_real_differences():
    from tradeie.labelstudio.client import config_difference
    from tradeie.schema import labeling_config

    config = labeling_config()
    assert config_difference(" ".join(config.split("\n")), config) == []
    diff = config_difference(config.replace('value="TARIFF"', 'value="DUTY"'), config)
    assert any(line.startswith("-") and "DUTY" in line for line in diff)
    assert any(line.startswith("+") and 'value="TARIFF"' in line for line in diff)
