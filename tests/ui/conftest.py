"""A real `revoice serve` subprocess for the page tests, one per test module.

The server listens on a free loopback port, keeps its models in the session's REVOICE_HOME
and its Gradio files in a temp dir. Its output goes to a log file whose tail is attached to
the report of any test that fails while using it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 35.0  # uvicorn's graceful shutdown waits up to 30 s
LOG_TAIL = 20_000


@dataclass
class Server:
    url: str  # base URL, with a trailing slash
    process: subprocess.Popen[bytes]
    log: Path

    def output(self, limit: int = LOG_TAIL) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(cannot read {self.log}: {exc})"
        return text if len(text) <= limit else "...\n" + text[-limit:]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).with_name("revoice")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "revoice"]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = "no answer yet"
    with httpx.Client(trust_env=False, timeout=5.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(
                    f"revoice serve exited with status {server.process.returncode} before "
                    f"/health answered; its output:\n{server.output()}",
                    pytrace=False,
                )
            try:
                response = http.get(server.url + "health")
                if response.status_code == 200 and response.json().get("status") == "ok":
                    return
                last_error = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last_error = repr(exc)
            time.sleep(0.25)
    pytest.fail(
        f"revoice serve did not answer /health within {STARTUP_TIMEOUT:g} s ({last_error}); "
        f"its output:\n{server.output()}",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def server(revoice_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`revoice serve --host 127.0.0.1 --port <free>`, healthy; stopped after the module."""
    workdir = tmp_path_factory.mktemp("revoice-serve")
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REVOICE_", "GRADIO_")) and k.lower() != "no_proxy"
    }
    env.update(
        REVOICE_HOME=str(revoice_home),
        REVOICE_VOICES=str(workdir / "missing" / "voices.toml"),  # does not exist
        GRADIO_ANALYTICS_ENABLED="False",
        GRADIO_TEMP_DIR=str(workdir / "gradio"),
        PYTHONUNBUFFERED="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
    srv = Server(url=f"http://127.0.0.1:{port}/", process=process, log=log)
    try:
        _wait_healthy(srv)
        yield srv
    finally:
        _stop(process)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the server's output to the report of a failed test that used it."""
    report = yield
    srv = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(srv, Server):
        report.sections.append(("revoice serve output", srv.output()))
    return report
