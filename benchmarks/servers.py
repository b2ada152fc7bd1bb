"""Run the two servers under identical uvicorn settings, each in its own subprocess on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from service.settings import Settings

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
# The same for both servers: one process, default loop and HTTP implementation,
# no access log (iprisk writes its own JSON request log, as in production).
UVICORN_ARGS = ("--host", HOST, "--workers", "1", "--log-level", "warning", "--no-access-log")
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A running server: its base URL and process."""

    name: str
    url: str
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _wait_ready(server: Server, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} server exited with code {server.process.returncode}")
        try:
            if httpx.get(server.url + path, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{server.name} server not ready after {timeout} s")


@contextmanager
def serve(
    name: str,
    app: str,
    *,
    env: dict[str, str],
    ready_path: str,
    log_file: Path,
    app_dir: Path | None = None,
    timeout: float = 120.0,
) -> Iterator[Server]:
    """Start ``app`` (a ``module:factory``) under uvicorn; stop it on exit."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "--factory", app, "--port", str(port), *UVICORN_ARGS]
    if app_dir is not None:
        cmd += ["--app-dir", str(app_dir)]
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, f"http://{HOST}:{port}", proc)
    try:
        try:
            _wait_ready(server, ready_path, timeout)
        except (RuntimeError, TimeoutError) as exc:
            tail = log_file.read_text(errors="replace").splitlines()[-15:]
            raise RuntimeError(f"{exc}; the end of {log_file}:\n" + "\n".join(tail)) from exc
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve_iprisk(
    settings: Settings,
    log_file: Path,
    *,
    name: str = "iprisk",
    app_dir: Path | None = None,
    env: dict[str, str] | None = None,
) -> AbstractContextManager[Server]:
    """iprisk's real app (``service.app:create_app``) on the home and database of ``settings``.

    ``app_dir`` serves the code of another tree (it goes first on ``sys.path``); ``env`` adds settings
    (``IPRISK_…`` variables).
    """
    env = {"IPRISK_HOME": str(settings.home), "IPRISK_DATABASE_URL": settings.db_url, **(env or {})}
    return serve(name, "service.app:create_app", env=env, ready_path="/readyz", log_file=log_file, app_dir=app_dir)


def make_key(code: Path, settings: Settings, *, institution: str = "bench", label: str = "") -> str:
    """A bank key created by the code of the tree ``code`` (its own migrations make the schema).

    An earlier revision may not read a schema migrated by this tree, so each side makes its own.
    """
    script = (
        "import sys; from service.keys import new_key; from service.settings import Settings; "
        "print(new_key(Settings(home=sys.argv[1], database_url=sys.argv[2]), role='bank', "
        "institution=sys.argv[3], label=sys.argv[4])[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(settings.home), settings.db_url, institution, label],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def store_for(code: Path, store: Path, scratch: Path) -> Path:
    """``store`` as the tree ``code`` can read it: before signed models (issue 15) a version directory
    holding ``signature.json`` was refused, so such a tree gets a copy without them in ``scratch``."""
    if (code / "models_store" / "signing.py").exists():
        return store
    copy = scratch / "models-unsigned"
    if not copy.exists():
        shutil.copytree(store, copy, ignore=shutil.ignore_patterns("signature.json"))
    return copy


def serve_naive(store: Path, log_file: Path) -> AbstractContextManager[Server]:
    """The naive baseline of :mod:`naive_app` on the same model store."""
    return serve(
        "naive",
        "naive_app:create_app",
        env={"BENCH_MODEL_STORE": str(store)},
        ready_path="/healthz",
        log_file=log_file,
        app_dir=HERE,
    )
