"""revoice on Ray Serve: the same FastAPI app, with each engine a deployment of its own.

`revoice serve --ray` (or `serve run revoice.ray_serve:app_builder`) deploys:

- `asr`: the speech-recognition engine (`asr.engine`), its default model loaded per replica;
- `tts-<engine>`: one per TTS engine the voice catalogue uses (piper, kokoro, festival, ...);
- `text`: the text step's generator, loaded on its first request;
- `ingress`: the app of `revoice serve` (API at /v1, page at /), unchanged, over a pipeline
  whose engines are handles to the deployments above.

Each scales on its own (replicas, autoscaling, CPUs/GPUs per replica: `Settings.ray`). The
pipeline, limits, errors and streaming are the single-machine code; only where an engine runs
changes. A replica that dies before answering is retried on another one, so a request is lost
only when its replica dies after it started streaming.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import ray
from ray import serve
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError, RayTaskError
from ray.serve.handle import DeploymentHandle

from revoice import registry
from revoice.asr.base import TranscriptStream
from revoice.audio import Audio
from revoice.config import DeploymentSettings, Settings
from revoice.errors import EngineUnavailable
from revoice.models import ModelCache
from revoice.types import Segment, SynthesisOptions, TranscribeOptions, Transcript, Voice
from revoice.voices import Catalogue

log = logging.getLogger("revoice")
T = TypeVar("T")

#: failures that mean "the replica went away", worth one more try on another replica
_GONE = (RayActorError, ActorDiedError, ActorUnavailableError)
RETRIES = 3
_RETRY_PAUSE = 0.5


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


# deployments: each holds a ModelCache, so a model loads once per replica


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


class RemoteModels(ModelCache):
    """A ModelCache whose engines live in deployments: checked (loaded) once, then shared."""

    def __init__(
        self,
        settings: Settings,
        asr: DeploymentHandle,
        tts: dict[str, DeploymentHandle],
        text: DeploymentHandle,
    ) -> None:
        super().__init__(settings)
        self.handles = {"asr": asr, "text": text, **{f"tts-{k}": v for k, v in tts.items()}}

    def asr(self, model: str | None = None) -> Any:
        name = model or self.settings.asr.model
        return self._get(("asr", name), lambda: RemoteTranscriber(self.handles["asr"], model))

    def tts(self, engine: str) -> Any:
        registry.get(engine, "tts")  # an unknown engine is a 404, as on one machine
        handle = self.handles.get(f"tts-{engine}")
        if handle is None:
            deployed = sorted(k.removeprefix("tts-") for k in self.handles if k.startswith("tts-"))
            raise EngineUnavailable(
                f"the {engine} engine has no deployment on this cluster (deployed: "
                f"{', '.join(deployed)}); add it to REVOICE_RAY__TTS_ENGINES"
            )
        return self._get(("tts", engine), lambda: RemoteSynthesizer(handle))

    def text(self) -> Any:
        name = self.settings.text.backend
        return self._get(("text", name), lambda: RemoteText(self.handles["text"]))

    def loaded(self) -> list[str]:
        return [f"{kind}:{name}@ray" for kind, name in self._items]


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
        self.models = RemoteModels(settings, asr, tts, text)

    def __serve_build_asgi_app__(self) -> Any:
        from revoice.pipeline import Pipeline
        from revoice.server import create_app

        pipeline = Pipeline(self.settings, models=self.models)
        capacity = self.settings.ray.ingress.max_ongoing_requests
        return create_app(self.settings, pipeline, capacity=capacity)


# building and running the application


def _deployment(deployment: Any, settings: Settings, name: str, base: DeploymentSettings) -> Any:
    """`deployment` (a @serve.deployment class) named `name`, scaled as its settings say."""
    return deployment.options(**_options(settings, name, base))


def _options(settings: Settings, name: str, base: DeploymentSettings) -> dict[str, Any]:
    cfg = settings.ray.overrides.get(name, base)
    options: dict[str, Any] = {
        "name": name,
        "max_ongoing_requests": cfg.max_ongoing_requests,
        "ray_actor_options": {"num_cpus": cfg.num_cpus, "num_gpus": cfg.num_gpus},
    }
    if cfg.autoscale:
        options["autoscaling_config"] = {
            "min_replicas": cfg.min_replicas,
            "max_replicas": cfg.max_replicas,
            "target_ongoing_requests": cfg.target_ongoing_requests,
        }
    else:
        options["num_replicas"] = cfg.replicas
    return options


def tts_engines(settings: Settings, catalogue: Catalogue | None = None) -> list[str]:
    """The TTS engines to deploy: as configured, else every engine a catalogue voice uses."""
    if settings.ray.tts_engines is not None:
        for name in settings.ray.tts_engines:
            registry.get(name, "tts")
        return list(dict.fromkeys(settings.ray.tts_engines))
    catalogue = catalogue or Catalogue.load(settings.voices, settings)
    return sorted({voice.engine for voice in catalogue})


def build(settings: Settings) -> serve.Application:
    """The Serve application: ingress over ASR, one deployment per TTS engine, and text."""
    catalogue = Catalogue.load(settings.voices, settings)
    default_engine = catalogue.get(settings.default_voice).engine
    scale = settings.ray
    asr = _deployment(ASRDeployment, settings, "asr", scale.asr).bind(settings)
    tts = {
        engine: _deployment(TTSDeployment, settings, f"tts-{engine}", scale.tts).bind(
            settings, engine, engine == default_engine
        )
        for engine in tts_engines(settings, catalogue)
    }
    text = _deployment(TextDeployment, settings, "text", scale.text).bind(settings)
    ingress = _deployment(Ingress, settings, "ingress", scale.ingress)
    app: serve.Application = ingress.bind(settings, asr, tts, text)
    return app


def app_builder(args: dict[str, str]) -> serve.Application:
    """For `serve run revoice.ray_serve:app_builder` (settings from REVOICE_* variables)."""
    return build(Settings())


def start(settings: Settings) -> None:
    """Connect to (or start) Ray, start Serve's HTTP proxies and deploy revoice (the ingress
    replica puts its own ffmpeg on PATH, on whichever node it lands: create_app does)."""
    # offline by default: no usage report to Ray's servers from a Ray started here
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not ray.is_initialized():
        ray.init(address=settings.ray.address, namespace="revoice", log_to_driver=True)
    serve.start(
        http_options={
            "host": settings.host,
            "port": settings.port,
            "location": settings.ray.proxy_location,
        }
    )
    serve.run(build(settings), name=settings.ray.app_name, route_prefix="/")


def run(settings: Settings) -> None:
    """`revoice serve --ray`: deploy, serve until interrupted, then take the app down."""
    import signal

    start(settings)
    print(
        f"revoice on Ray Serve: serving on http://{settings.host}:{settings.port} "
        f"(dashboard: `ray status`, `serve status`)",
        flush=True,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while not stopping.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        serve.delete(settings.ray.app_name)
        if settings.ray.address is None:
            serve.shutdown()
