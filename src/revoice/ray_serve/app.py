"""Building the Serve application from the settings, and running it (`revoice serve --ray`)."""

from __future__ import annotations

import os
import threading
from typing import Any

import ray
from ray import serve

from revoice import registry
from revoice.config import DeploymentSettings, Settings
from revoice.ray_serve.deployments import ASRDeployment, Ingress, TextDeployment, TTSDeployment
from revoice.voices import Catalogue

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
