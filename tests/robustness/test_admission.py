"""Backpressure: a bounded queue (429 with Retry-After past it), and no work for clients that
have hung up.

Reproduction from a hostile black-box run: 64 requests at concurrency 1 were all queued, none
refused; after 8 clients hung up, a fresh request waited 112 s instead of 14 s because the dead
requests were still transcribed first.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from revoice.config import Limits, Settings
from revoice.pipeline import Pipeline
from revoice.server import create_app
from tests.helpers import HUMAN, wer
from tests.robustness.conftest import serve_in_thread

CLIP = HUMAN / "librivox-0880.wav"
REFERENCE = "he was not an ill disposed young man"


class CountingPipeline(Pipeline):
    """The real pipeline, counting transcriptions and holding each one until released."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transcribed = 0
        self.gate = threading.Event()
        self.gate.set()

    def transcribe(self, *args: Any, **kwargs: Any) -> Any:
        self.gate.wait(timeout=60)
        self.transcribed += 1
        return super().transcribe(*args, **kwargs)


@pytest.fixture
def server(settings: Settings, pipeline: Pipeline) -> Iterator[tuple[str, CountingPipeline]]:
    tight = settings.model_copy(
        update={"concurrency": 1, "limits": Limits(max_queue=2, max_upload_bytes=4 << 20)}
    )
    counting = CountingPipeline(tight, models=pipeline.models, catalogue=pipeline.catalogue)
    with serve_in_thread(create_app(tight, counting)) as base:
        yield base, counting


def _transcribe(base: str) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=120) as http:
        return http.post(
            base + "/v1/audio/transcriptions",
            files={"file": ("a.wav", CLIP.read_bytes(), "audio/wav")},
            data={"model": "whisper-1"},
        )


def _busy(base: str) -> dict[str, int]:
    with httpx.Client(trust_env=False) as http:
        requests: dict[str, int] = http.get(base + "/health").json()["requests"]
        return requests


def _wait_for(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_burst_past_the_queue_gets_429_not_a_longer_queue(
    server: tuple[str, CountingPipeline],
) -> None:
    base, counting = server
    counting.gate.clear()  # hold the first transcription so the others pile up
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(_transcribe, base) for _ in range(8)]
        _wait_for(lambda: _busy(base)["active"] == 3)  # 1 running + 2 waiting
        time.sleep(0.5)
        refused = [f.result() for f in futures if f.done()]
        assert len(refused) == 5
        for answer in refused:
            assert answer.status_code == 429
            assert answer.json()["error"]["code"] == "server_busy"
            assert int(answer.headers["retry-after"]) >= 1
        counting.gate.set()
        answers = [f.result() for f in futures]
    done = [a for a in answers if a.status_code == 200]
    assert len(done) == 3
    for answer in done:
        assert wer([REFERENCE], [answer.json()["text"]]) <= 0.15
    assert _busy(base) == {"active": 0, "running_limit": 1, "queue_limit": 2}


def _hang_up(base: str) -> None:
    """Send a whole transcription request, then close the connection without reading."""
    body = CLIP.read_bytes()
    boundary = "x-revoice-test"
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    where = urlsplit(base)
    with socket.create_connection((where.hostname, where.port)) as sock:
        head = (
            f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: {where.netloc}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(form)}\r\n\r\n"
        )
        sock.sendall(head.encode() + form)
        time.sleep(0.3)


def test_requests_whose_clients_hung_up_are_not_transcribed(
    server: tuple[str, CountingPipeline],
) -> None:
    base, counting = server
    counting.gate.clear()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(_transcribe, base)
        _wait_for(lambda: _busy(base)["active"] == 1)
        for _ in range(2):
            _hang_up(base)  # these two wait behind the first, then their clients leave
        _wait_for(lambda: _busy(base)["active"] == 3)
        counting.gate.set()
        assert first.result().status_code == 200
    _wait_for(lambda: _busy(base)["active"] == 0)
    assert counting.transcribed == 1  # only the request somebody waited for
    fresh = _transcribe(base)
    assert fresh.status_code == 200 and counting.transcribed == 2
