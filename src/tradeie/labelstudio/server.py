"""A local Label Studio server: installed in its own venv, started on loopback, stopped by PID.

``label-studio`` lives in ``.venv-labelstudio`` (never in the project's venv:
it would downgrade pyarrow). The server is started non-interactively, bound
to 127.0.0.1, with its own data dir, analytics and version checks off, and
its admin user, password and legacy API token set through the environment
before the first start (they only apply when the database is created).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tradeie.errors import TradeieError

log = logging.getLogger(__name__)

LABEL_STUDIO_REQUIREMENT = "label-studio==1.23.*"
LABEL_STUDIO_SERIES = "1.23."
DEFAULT_VENV = Path(".venv-labelstudio")
DEFAULT_DATA_DIR = Path("labelstudio-data")
DEFAULT_PORT = 8080
DEFAULT_USERNAME = "admin@example.com"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Credentials:
    """The admin user created on a data dir's first start."""

    username: str
    password: str
    api_key: str  # a legacy token (6..40 characters) set as the admin's token
    source: str = "arguments"

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return f"Credentials(username={self.username!r}, source={self.source!r})"


@dataclass
class Server:
    """A running Label Studio started by :func:`start_server`."""

    url: str
    port: int
    pid: int
    data_dir: Path
    log_path: Path
    credentials: Credentials
    process: subprocess.Popen | None = field(default=None, repr=False)

    def stop(self, timeout: float = 20.0) -> None:
        stop_server(self, timeout)


# --------------------------------------------------------------------------- install


def label_studio_executable(venv: str | os.PathLike = DEFAULT_VENV) -> Path:
    return Path(venv) / "bin" / "label-studio"


def installed_version(venv: str | os.PathLike = DEFAULT_VENV) -> str | None:
    """The label-studio version installed in ``venv``, or None."""
    python = Path(venv) / "bin" / "python"
    if not python.exists() or not label_studio_executable(venv).exists():
        return None
    proc = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('label-studio'))"],
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure_installed(
    venv: str | os.PathLike = DEFAULT_VENV, requirement: str = LABEL_STUDIO_REQUIREMENT, python: str | None = None
) -> Path:
    """Install ``requirement`` into its own venv unless it is already there; return the executable."""
    venv = Path(venv).absolute()
    version = installed_version(venv)
    if version and version.startswith(LABEL_STUDIO_SERIES):
        return label_studio_executable(venv)
    with _install_lock(venv):
        version = installed_version(venv)  # another process may have installed it meanwhile
        if version and version.startswith(LABEL_STUDIO_SERIES):
            return label_studio_executable(venv)
        python = python or shutil.which("python3") or sys.executable
        log.info("installing %s into %s (takes a few minutes)", requirement, venv)
        started = time.monotonic()
        if not (venv / "bin" / "pip").exists():
            _run([python, "-m", "venv", str(venv)], None, "create the venv")
        _run(
            [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", requirement],
            venv / "install.log",
            f"pip install {requirement}",
        )
        version = installed_version(venv)
        if not (version and version.startswith(LABEL_STUDIO_SERIES)):
            raise TradeieError(
                f"{venv}: label-studio {version} installed, expected {requirement}", hint=f"remove {venv} and run again"
            )
        log.info("installed label-studio %s in %.0f s", version, time.monotonic() - started)
    return label_studio_executable(venv)


class _install_lock:
    """An exclusive lock so that two processes never install into the same venv at once."""

    def __init__(self, venv: Path) -> None:
        import hashlib

        digest = hashlib.sha256(str(venv).encode()).hexdigest()[:16]
        self.path = Path(tempfile.gettempdir()) / f"tradeie-lsvenv-{digest}.lock"

    def __enter__(self):
        import fcntl

        self.handle = open(self.path, "w")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        import fcntl

        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _run(cmd: list[str], log_path: Path | None, what: str) -> None:
    """Run ``cmd``; its output goes to ``log_path`` (or is kept in memory); failing is a TradeieError."""
    if log_path is None:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output = proc.stdout
    else:
        with open(log_path, "w", encoding="utf-8") as out:
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
        output = log_path.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        tail = " | ".join(output.strip().splitlines()[-3:])
        where = f"; see {log_path}" if log_path else ""
        raise TradeieError(
            f"could not {what} (exit {proc.returncode}: {tail}{where})",
            hint="check network access to PyPI and disk space, then run again",
        )


# --------------------------------------------------------------------------- credentials


def free_port(host: str = HOST) -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("localhost", port)) != 0  # Label Studio itself probes localhost


def new_credentials(username: str = DEFAULT_USERNAME, source: str = "generated") -> Credentials:
    return Credentials(
        username=username, password=secrets.token_urlsafe(16), api_key=secrets.token_hex(20), source=source
    )


_CREDENTIAL_ENV = (("password", "LABEL_STUDIO_PASSWORD"), ("api_key", "LABEL_STUDIO_API_KEY"))


def resolve_credentials(data_dir: str | os.PathLike | None = None) -> Credentials:
    """Credentials for ``tradeie ls serve``, from the environment only (never stored by tradeie).

    ``LABEL_STUDIO_PASSWORD`` and a legacy-format ``LABEL_STUDIO_API_KEY`` are
    required; ``LABEL_STUDIO_USERNAME`` defaults to ``admin@example.com``. The
    server applies them when its data dir is first created.
    """
    missing = [env for _, env in _CREDENTIAL_ENV if not os.environ.get(env)]
    if missing:
        raise TradeieError(
            f"ls serve: {' and '.join(missing)} not set; secrets come from the environment only",
            hint="export LABEL_STUDIO_PASSWORD=<a password> "
            "LABEL_STUDIO_API_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(20))')",
        )
    api_key = os.environ["LABEL_STUDIO_API_KEY"]
    if not _legacy_token_ok(api_key):
        raise TradeieError(
            "ls serve: LABEL_STUDIO_API_KEY must be a legacy token (up to 40 characters) to "
            "become the admin's token; a personal access token works for push/pull only",
            hint="export LABEL_STUDIO_API_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(20))')",
        )
    username = os.environ.get("LABEL_STUDIO_USERNAME") or DEFAULT_USERNAME
    names = ["LABEL_STUDIO_PASSWORD", "LABEL_STUDIO_API_KEY"] + (
        ["LABEL_STUDIO_USERNAME"] if os.environ.get("LABEL_STUDIO_USERNAME") else []
    )
    return Credentials(
        username=username,
        password=os.environ["LABEL_STUDIO_PASSWORD"],
        api_key=api_key,
        source="environment (" + ", ".join(names) + ")",
    )


def _legacy_token_ok(token: str) -> bool:
    return 5 < len(token) <= 40 and token.count(".") != 2


# --------------------------------------------------------------------------- start / stop


def server_env(data_dir: Path, credentials: Credentials) -> dict[str, str]:
    """The environment for a non-interactive, loopback-only, telemetry-free start.

    (Label Studio keeps its own signing key in ``<data_dir>/.env``, so personal
    access tokens stay valid across restarts.)
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "DJANGO_"))}
    env.update(
        {
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "PYTHONUNBUFFERED": "1",
            "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
            "LABEL_STUDIO_USERNAME": credentials.username,
            "LABEL_STUDIO_PASSWORD": credentials.password,
            "LABEL_STUDIO_USER_TOKEN": credentials.api_key,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
            # SSRF protection stays on, except for loopback: `tradeie ls backend` serves on 127.0.0.1
            "USE_DEFAULT_BANNED_SUBNETS": "false",
            "USER_ADDITIONAL_BANNED_SUBNETS": ",".join(BANNED_SUBNETS_BUT_LOOPBACK),
        }
    )
    return env


#: Label Studio's default SSRF-banned subnets (label_studio/core/utils/io.py) minus loopback.
BANNED_SUBNETS_BUT_LOOPBACK = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "233.252.0.0/24",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "::ffff:0:0/96",
    "::ffff:0:0:0/96",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/32",
    "2001:20::/28",
    "2001:db8::/32",
    "2002::/16",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
)


def start_server(
    data_dir: str | os.PathLike = DEFAULT_DATA_DIR,
    *,
    port: int | None = None,
    credentials: Credentials | None = None,
    venv: str | os.PathLike = DEFAULT_VENV,
    timeout: float = 240.0,
    install: bool = True,
) -> Server:
    """Start Label Studio on ``127.0.0.1:port`` and wait until ``/health`` answers on that port."""
    data_dir = Path(data_dir).absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    exe = ensure_installed(venv) if install else label_studio_executable(venv)
    if not exe.exists():
        raise TradeieError(f"{exe}: label-studio is not installed", hint="run `tradeie ls serve` to install it")
    credentials = credentials or new_credentials(source="generated")
    if not _legacy_token_ok(credentials.api_key):
        raise TradeieError(
            "Label Studio admin token must be 6-40 characters and not a JWT",
            hint="use a legacy-format token (e.g. 40 hex characters)",
        )
    port = port or free_port()
    if not port_is_free(port):
        raise TradeieError(
            f"port {port} on {HOST} is already in use", hint="stop what runs there or choose another --port"
        )
    log_path = data_dir / "label-studio.log"
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    cmd = [str(exe), "start", "--no-browser", "--internal-host", HOST, "--port", str(port)]
    with open(log_path, "ab") as out:
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=server_env(data_dir, credentials),
            cwd=data_dir,
            start_new_session=True,
        )
    server = Server(
        url=f"http://{HOST}:{port}",
        port=port,
        pid=process.pid,
        data_dir=data_dir,
        log_path=log_path,
        credentials=credentials,
        process=process,
    )
    try:
        _wait_until_ready(server, timeout, log_offset=log_offset)
    except BaseException:
        stop_server(server)
        raise
    return server


_STARTED = re.compile(r"Starting development server at https?://([^:/\s]+):(\d+)/")
_MOVED = re.compile(r"Port (\d+) is in use")


def _wait_until_ready(server: Server, timeout: float, log_offset: int = 0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = _read_log(server.log_path, log_offset)
        if _MOVED.search(text):
            raise TradeieError(
                f"port {server.port} became busy and Label Studio moved to another port",
                hint="run again (a free port is picked) or choose another --port",
            )
        started = _STARTED.findall(text)
        if started and int(started[-1][1]) != server.port:
            raise TradeieError(
                f"Label Studio started on port {started[-1][1]}, not the {server.port} asked for",
                hint="choose another --port",
            )
        if server.process is not None and server.process.poll() is not None:
            tail = " | ".join(text.strip().splitlines()[-5:])
            raise TradeieError(
                f"Label Studio exited with code {server.process.returncode} during start ({server.log_path}: {tail})",
                hint=f"read {server.log_path}",
            )
        if started and health(server.url):
            log.info("Label Studio is up at %s (pid %d)", server.url, server.pid)
            return
        time.sleep(0.5)
    raise TradeieError(
        f"Label Studio did not answer {server.url}/health within {timeout:.0f} s", hint=f"read {server.log_path}"
    )


def _read_log(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def health(url: str, timeout: float = 2.0) -> bool:
    """True if ``url/health`` answers ``{"status": "UP"}``."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8")).get("status") == "UP"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def stop_server(server: Server, timeout: float = 20.0) -> None:
    """Stop the server's whole process group: SIGTERM, then SIGKILL after ``timeout``."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        if _wait_exit(server, wait):
            break
    if server.process is not None:
        try:
            server.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass


def _wait_exit(server: Server, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is not None:
            if server.process.poll() is not None and not _group_alive(server.pid):
                return True
        elif not _group_alive(server.pid):
            return True
        time.sleep(0.2)
    return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
