"""The deployments: one per engine kind (each replica holds a ModelCache, so a model loads
once per replica) and the ingress, the app of `revoice serve` over proxies to them."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

import ray
from ray import serve
from ray.serve.handle import DeploymentHandle

from revoice.audio import Audio
from revoice.config import Settings
from revoice.models import ModelCache
from revoice.ray_serve.proxies import remote_builder
from revoice.types import SynthesisOptions, TranscribeOptions, Transcript, Voice

# deployments: each holds a ModelCache, so a model loads once per replica

log = logging.getLogger("revoice")


def _replica() -> dict[str, str]:
    """Which replica (and node) this is, for checking how work is spread."""
    context = serve.get_replica_context()
    return {
        "replica": context.replica_id.unique_id,
        "node": ray.get_runtime_context().get_node_id(),
        "pid": str(os.getpid()),
    }


class _Counted:
    """Counts the requests a replica served (`served`: which replica, which node, how many)."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def _served_one(self) -> None:
        with self._lock:
            self._count += 1

    models: ModelCache

    def served(self) -> dict[str, Any]:
        return {**_replica(), "count": self._count, "loaded": self.models.loaded()}


@serve.deployment(name="asr")
class ASRDeployment(_Counted):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.models = ModelCache(settings)
        try:
            self.models.asr()  # the default model, loaded before the replica takes requests
        except Exception:  # reported per request, with its reason, like a single machine
            log.exception("loading the ASR model failed")

    def load(self, model: str | None) -> None:
        self.models.asr(model)

    def transcribe(self, audio: Audio, options: TranscribeOptions, model: str | None) -> Transcript:
        self._served_one()
        return self.models.asr(model).transcribe(audio, options)

    def stream(self, audio: Audio, options: TranscribeOptions, model: str | None) -> Iterator[Any]:
        """First the stream's header (language, probability, duration, task), then segments."""
        self._served_one()
        started = self.models.asr(model).stream(audio, options)
        yield (started.language, started.language_probability, started.duration, started.task)
        yield from started.segments

    def detect_language(self, audio: Audio, model: str | None) -> tuple[str, float]:
        return self.models.asr(model).detect_language(audio)


@serve.deployment(name="tts")
class TTSDeployment(_Counted):
    def __init__(self, settings: Settings, engine: str, warm: bool) -> None:
        super().__init__()
        self.engine = engine
        self.models = ModelCache(settings)
        if warm:
            try:
                self.models.tts(engine)
            except Exception:
                log.exception("loading the %s engine failed", engine)

    def load(self) -> None:
        self.models.tts(self.engine)

    def synthesize(self, text: str, voice: Voice, options: SynthesisOptions) -> Iterator[Audio]:
        self._served_one()
        yield from self.models.tts(self.engine).synthesize(text, voice, options)


@serve.deployment(name="text")
class TextDeployment(_Counted):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.models = ModelCache(settings)

    def load(self) -> None:
        self.models.text()

    def generate(self, prompt: str, instruction: str | None) -> str:
        self._served_one()
        return self.models.text().generate(prompt, instruction=instruction)


@serve.deployment(name="ingress")
@serve.ingress()
class Ingress:
    """The app of `revoice serve`, built in the replica over handles to the engines."""

    def __init__(
        self,
        settings: Settings,
        asr: DeploymentHandle,
        tts: dict[str, DeploymentHandle],
        text: DeploymentHandle,
    ) -> None:
        self.settings = settings
        self.models = ModelCache(settings, remote_builder(asr, tts, text), where="@ray")

    def __serve_build_asgi_app__(self) -> Any:
        from revoice.pipeline import Pipeline
        from revoice.server import create_app

        pipeline = Pipeline(self.settings, models=self.models)
        capacity = self.settings.ray.ingress.max_ongoing_requests
        return create_app(self.settings, pipeline, capacity=capacity)
