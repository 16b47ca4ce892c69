"""Publishing: dry run, token handling and failures, all offline (local 127.0.0.1 endpoints or a fake HfApi)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tradeie.data import hub
from tradeie.cli import main
from tradeie.errors import TradeieError

SECRET = "hf_tradeie_test_secret_token_0123456789"


def _listing(folder):
    return sorted(
        (p.relative_to(folder).as_posix(), p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )


@pytest.fixture
def no_token(monkeypatch, tmp_path):
    import huggingface_hub.constants as constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))


@pytest.fixture
def online(monkeypatch):
    """Let huggingface_hub send requests (only ever to 127.0.0.1 in these tests)."""
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
def refusing_server():
    """A local HTTP server answering 401 to everything, like the Hub with a bad token."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def _refuse(self):
            seen.append((self.command, self.path, self.headers.get("authorization", "")))
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            body = json.dumps({"error": "Invalid credentials in Authorization header"}).encode()
            self.send_response(401)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = _refuse

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dry_run_lists_exactly_the_folder_and_the_url(hub_dir, no_token):
    result = hub.push_folder(hub_dir, "tradeie-test/trade-ner", dry_run=True)
    assert result.dry_run and result.files == _listing(hub_dir)
    assert result.repo_url == "https://huggingface.co/datasets/tradeie-test/trade-ner"
    with_rev = hub.push_folder(
        hub_dir, "tradeie-test/trade-ner", dry_run=True, revision="v1", endpoint="http://127.0.0.1:1"
    )
    assert with_rev.repo_url == "http://127.0.0.1:1/datasets/tradeie-test/trade-ner/tree/v1"


def test_dry_run_skips_hidden_files(hub_dir, tmp_path, no_token):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(hub_dir, folder)
    (folder / ".cache").mkdir()
    (folder / ".cache" / "x").write_text("x")
    (folder / ".DS_Store").write_text("x")
    assert hub.push_folder(folder, "a/b", dry_run=True).files == _listing(hub_dir)


def test_cli_dry_run(hub_dir, no_token, capsys):
    assert main(["dataset", "push", str(hub_dir), "--repo-id", "tradeie-test/trade-ner", "--dry-run", "--private"]) == 0
    out = capsys.readouterr().out
    assert "https://huggingface.co/datasets/tradeie-test/trade-ner (private)" in out
    listed = [line.split()[0] for line in out.splitlines()[1:]]
    assert listed == [name for name, _ in _listing(hub_dir)]


def test_no_token_is_one_clear_error(hub_dir, no_token, capsys):
    with pytest.raises(TradeieError, match="no Hugging Face token"):
        hub.push_folder(hub_dir, "tradeie-test/trade-ner")
    assert main(["dataset", "push", str(hub_dir), "--repo-id", "tradeie-test/trade-ner"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HF_TOKEN" in err and "Traceback" not in err


def test_auth_failure_is_one_line_without_the_token(hub_dir, refusing_server, online, monkeypatch, capsys):
    endpoint, seen = refusing_server
    monkeypatch.setenv("HF_TOKEN", SECRET)
    with pytest.raises(TradeieError) as err:
        hub.push_folder(hub_dir, "tradeie-test/trade-ner", endpoint=endpoint)
    message = str(err.value)
    assert "HTTP 401" in message and SECRET not in message and "\n" not in message
    assert seen and seen[0][2] == f"Bearer {SECRET}", "the token is sent to the endpoint, never printed"

    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    assert main(["dataset", "push", str(hub_dir), "--repo-id", "tradeie-test/trade-ner"]) == 2
    captured = capsys.readouterr()
    assert "HTTP 401" in captured.err and SECRET not in captured.err + captured.out


def test_network_down_is_one_line(hub_dir, online, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(TradeieError, match="cannot reach") as err:
        hub.push_folder(hub_dir, "tradeie-test/trade-ner", endpoint=endpoint)
    assert SECRET not in str(err.value)


def test_offline_mode_is_reported(hub_dir, monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    with pytest.raises(TradeieError, match="HF_HUB_OFFLINE"):
        hub.push_folder(hub_dir, "tradeie-test/trade-ner")


def test_push_creates_repo_and_uploads_in_one_commit(hub_dir, monkeypatch):
    import huggingface_hub

    calls = []

    class FakeApi:
        def __init__(self, endpoint=None, token=None):
            calls.append(("init", endpoint, token))

        def create_repo(self, repo_id, **kw):
            calls.append(("create_repo", repo_id, kw))

        def create_branch(self, repo_id, **kw):
            calls.append(("create_branch", repo_id, kw))

        def upload_folder(self, **kw):
            calls.append(("upload_folder", kw))

            class Commit:
                commit_url = "https://example.invalid/commit/1"

            return Commit()

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    result = hub.push_folder(hub_dir, "tradeie-test/trade-ner", private=True, revision="v1")
    assert [c[0] for c in calls] == ["init", "create_repo", "create_branch", "upload_folder"]
    assert calls[1][2] == {"repo_type": "dataset", "private": True, "exist_ok": True}
    upload = calls[3][1]
    assert upload["repo_type"] == "dataset" and upload["revision"] == "v1"
    assert upload["folder_path"] == str(hub_dir)
    assert upload["allow_patterns"] == [name for name, _ in _listing(hub_dir)]
    assert not result.dry_run and result.commit_url.endswith("/commit/1")


@pytest.mark.parametrize("repo_id, expected", [("no-owner", "no owner"), ("a/b/c", "repo id")])
def test_bad_repo_id(hub_dir, repo_id, expected):
    with pytest.raises(TradeieError, match=expected):
        hub.push_folder(hub_dir, repo_id, dry_run=True)


def test_not_a_dataset_folder(tmp_path):
    with pytest.raises(TradeieError, match="no such folder"):
        hub.push_folder(tmp_path / "missing", "a/b", dry_run=True)
    (tmp_path / "README.md").write_text("hi")
    with pytest.raises(TradeieError, match="not a Hub dataset folder"):
        hub.push_folder(tmp_path, "a/b", dry_run=True)
