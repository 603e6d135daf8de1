"""An in-process API with small limits, sharing the session's pipeline."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.testclient import TestClient

from revoice.config import Limits, Settings
from revoice.pipeline import Pipeline
from revoice.server import create_app

LIMITS = Limits(max_upload_bytes=4 * 1024 * 1024, max_audio_seconds=120, max_text_chars=2000)


@pytest.fixture(scope="module")
def small_limits(settings: Settings) -> Settings:
    return settings.model_copy(update={"limits": LIMITS})


@pytest.fixture(scope="module")
def api(small_limits: Settings, pipeline: Pipeline) -> Iterator[TestClient]:
    app = create_app(
        small_limits, Pipeline(small_limits, models=pipeline.models, catalogue=pipeline.catalogue)
    )
    with TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1") as client:
        yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """A real uvicorn server for `app` on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
