"""Faults: gone clients, failing engines and shutdown, against a real uvicorn server."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from revoice.audio import Audio
from revoice.config import Settings
from revoice.models import ModelCache
from revoice.pipeline import Pipeline
from revoice.server import create_app
from revoice.tts.base import Synthesizer
from revoice.types import SynthesisOptions, Voice
from tests.api.helpers import running_server
from tests.robustness.conftest import serve_in_thread


class Instrumented:
    """Wraps a real synthesizer: counts chunks made, and fails on request."""

    def __init__(self, inner: Synthesizer) -> None:
        self.inner = inner
        self.made = 0
        self.closed = 0

    def load(self) -> None:
        self.inner.load()

    def synthesize(self, text: str, voice: Voice, options: SynthesisOptions) -> Iterator[Audio]:
        if "EXPLODE" in text:
            raise RuntimeError("engine failure on purpose")
        try:
            for chunk in self.inner.synthesize(text, voice, options):
                self.made += 1
                yield chunk
        finally:
            self.closed += 1


class InstrumentedCache(ModelCache):
    """Speech to text from the shared cache; its speech engines wrapped (`wrapped`)."""

    def __init__(self, shared: ModelCache) -> None:
        self.wrapped: dict[str, Instrumented] = {}

        def build(kind: str, name: str) -> Any:
            if kind != "tts":
                return shared.asr(name)
            self.wrapped[name] = Instrumented(shared.tts(name))
            return self.wrapped[name]

        super().__init__(shared.settings, build)


@pytest.fixture(scope="module")
def live(settings: Settings, pipeline: Pipeline) -> Iterator[tuple[str, InstrumentedCache]]:
    cache = InstrumentedCache(pipeline.models)
    app = create_app(settings, Pipeline(settings, models=cache, catalogue=pipeline.catalogue))
    with serve_in_thread(app) as url:
        yield url, cache


LONG = " ".join(f"This is sentence number {n} of a long text." for n in range(1, 41))


def test_a_client_that_disconnects_frees_its_work(live: tuple[str, InstrumentedCache]) -> None:
    url, cache = live
    body = {"model": "tts-1", "voice": "echo", "input": LONG, "response_format": "pcm"}
    with (
        httpx.Client(timeout=60) as client,
        client.stream("POST", f"{url}/v1/audio/speech", json=body) as reply,
    ):
        assert reply.status_code == 200
        next(reply.iter_bytes())
    engine = cache.wrapped["piper"]
    deadline = time.monotonic() + 20
    while engine.closed == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    made = engine.made
    time.sleep(1.0)
    assert engine.closed >= 1, "the engine's generator was not closed"
    assert engine.made == made < 40, "work went on after the client left"


def test_an_engine_failure_hits_only_its_own_request(live: tuple[str, InstrumentedCache]) -> None:
    url, _ = live

    def speak(text: str) -> httpx.Response:
        return httpx.post(
            f"{url}/v1/audio/speech",
            timeout=120,
            json={"model": "tts-1", "voice": "echo", "input": text, "response_format": "wav"},
        )

    texts = ["EXPLODE now.", "First good sentence.", "Second good sentence.", "EXPLODE again."]
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(speak, texts))
    for text, reply in zip(texts, replies, strict=True):
        if "EXPLODE" in text:
            assert reply.status_code == 500
            assert reply.json()["error"]["code"] == "internal_error"
            assert "Traceback" not in reply.text
        else:
            assert reply.status_code == 200 and len(reply.content) > 20_000
    assert speak("Still serving.").status_code == 200


def test_shutdown_lets_in_flight_requests_finish(revoice_home: Path, tmp_path: Path) -> None:
    from revoice import codecs

    with running_server(revoice_home, tmp_path) as server:
        text = " ".join(
            f"Sentence {n} keeps the server busy for a little while." for n in range(1, 6)
        )
        result: dict[str, httpx.Response] = {}

        def request() -> None:
            result["reply"] = httpx.post(
                f"{server.base_url}/v1/audio/speech",
                timeout=120,
                json={"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"},
            )

        worker = threading.Thread(target=request)
        worker.start()
        time.sleep(1.5)  # in flight: Kokoro needs several seconds for five sentences
        server.process.send_signal(signal.SIGTERM)
        worker.join(timeout=120)
        reply = result["reply"]
        assert reply.status_code == 200, server.output()
        assert codecs.decode(reply.content).duration > 12  # all five sentences
        # uvicorn re-raises SIGTERM after a clean shutdown, so the exit reads as that signal
        assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in server.output()
