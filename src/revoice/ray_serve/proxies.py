"""The engines the ingress's pipeline sees: the same interfaces, the work done by the
deployments; a replica that dies before answering is retried on another one."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError, RayTaskError
from ray.serve.handle import DeploymentHandle

from revoice.asr.base import TranscriptStream
from revoice.audio import Audio
from revoice.errors import EngineUnavailable
from revoice.models import Builder
from revoice.types import Segment, SynthesisOptions, TranscribeOptions, Transcript, Voice

T = TypeVar("T")

#: failures that mean "the replica went away", worth one more try on another replica
_GONE = (RayActorError, ActorDiedError, ActorUnavailableError)
RETRIES = 3
_RETRY_PAUSE = 0.5

log = logging.getLogger("revoice")


def _unwrap(exc: RayTaskError) -> BaseException:
    """The engine's own error (raised in the replica), as a single machine would raise it."""
    cause = exc.cause
    return cause if isinstance(cause, BaseException) else exc


def _call(fn: Callable[[], T]) -> T:
    """Call a deployment; retry when the replica died before answering."""
    for attempt in range(RETRIES):
        try:
            return fn()
        except RayTaskError as exc:
            raise _unwrap(exc) from None
        except _GONE:
            if attempt == RETRIES - 1:
                raise
            log.warning("a replica went away; retrying the call on another one")
            time.sleep(_RETRY_PAUSE)
    raise AssertionError("unreachable")


def _stream(start: Callable[[], Any]) -> Iterator[Any]:
    """Items of a streaming deployment call; restarted on another replica if the first one
    dies before yielding anything (after that, the request is lost with it)."""
    for attempt in range(RETRIES):
        started = False
        try:
            for item in start():
                started = True
                yield item
            return
        except RayTaskError as exc:
            raise _unwrap(exc) from None
        except _GONE:
            if started or attempt == RETRIES - 1:
                raise
            log.warning("a replica went away; restarting the stream on another one")
            time.sleep(_RETRY_PAUSE)


# the engines the ingress's pipeline sees: same interfaces, work done by the deployments


class RemoteTranscriber:
    def __init__(self, handle: DeploymentHandle, model: str | None) -> None:
        self.handle = handle
        self.model = model

    def load(self) -> None:
        _call(lambda: self.handle.load.remote(self.model).result())

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcript:
        result: Transcript = _call(
            lambda: self.handle.transcribe.remote(audio, options, self.model).result()
        )
        return result

    def stream(self, audio: Audio, options: TranscribeOptions) -> TranscriptStream:
        items = _stream(
            lambda: self.handle.options(stream=True).stream.remote(audio, options, self.model)
        )
        language, probability, duration, task = next(items)
        segments: Iterator[Segment] = items
        return TranscriptStream(language, probability, duration, task, segments)

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        result: tuple[str, float] = _call(
            lambda: self.handle.detect_language.remote(audio, self.model).result()
        )
        return result


class RemoteSynthesizer:
    def __init__(self, handle: DeploymentHandle) -> None:
        self.handle = handle

    def load(self) -> None:
        _call(lambda: self.handle.load.remote().result())

    def synthesize(self, text: str, voice: Voice, options: SynthesisOptions) -> Iterator[Audio]:
        return _stream(
            lambda: self.handle.options(stream=True).synthesize.remote(text, voice, options)
        )


class RemoteText:
    def __init__(self, handle: DeploymentHandle) -> None:
        self.handle = handle

    def load(self) -> None:
        _call(lambda: self.handle.load.remote().result())

    def generate(self, prompt: str, *, instruction: str | None = None) -> str:
        result: str = _call(lambda: self.handle.generate.remote(prompt, instruction).result())
        return result


def remote_builder(
    asr: DeploymentHandle, tts: dict[str, DeploymentHandle], text: DeploymentHandle
) -> Builder:
    """Engines for the ingress's `ModelCache`: proxies to the deployments (checked, i.e.
    loaded, once by the cache, then shared)."""

    def build(kind: str, name: str) -> Any:
        if kind == "asr":
            return RemoteTranscriber(asr, name)
        if kind == "tts":
            handle = tts.get(name)
            if handle is None:
                raise EngineUnavailable(
                    f"the {name} engine has no deployment on this cluster (deployed: "
                    f"{', '.join(sorted(tts))}); add it to REVOICE_RAY__TTS_ENGINES"
                )
            return RemoteSynthesizer(handle)
        return RemoteText(text)

    return build
