"""The model cache: each engine (and each ASR model) is built and loaded once, then shared.

What an engine is built from is the cache's builder, `(kind, name) -> engine`, kind being
"asr" (name: the model), "tts" (the engine) or "text" (the backend). The default builds the
registry's adapters in this process (`local_builder`); Ray Serve's ingress passes one that
builds proxies to its deployments, and tests pass one that wraps or breaks engines. The cache
itself only keys, locks, loads once and lists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from revoice import registry, threads
from revoice.asr.base import Transcriber
from revoice.config import Settings
from revoice.textgen.base import TextGenerator
from revoice.tts.base import Synthesizer

#: builds an engine, not yet loaded: (kind, name) -> engine
Builder = Callable[[str, str], Any]


def local_builder(settings: Settings) -> Builder:
    """Engines of this process, from the registry (the configured ASR engine, any TTS engine,
    the configured text backend)."""

    def build(kind: str, name: str) -> Any:
        if kind == "asr":
            return registry.get(settings.asr.engine, "asr").load_class()(settings, model=name)
        if kind == "tts":
            return registry.get(name, "tts").load_class()(settings)
        from revoice import textgen

        return textgen.create(settings)

    return build


class ModelCache:
    """Lazily builds engines with its builder; safe to share between threads and requests."""

    def __init__(
        self, settings: Settings, build: Builder | None = None, *, where: str = ""
    ) -> None:
        self.settings = settings
        self.where = where  # said after each name in `loaded()` (e.g. "@ray")
        threads.configure(settings.spin)  # before any engine loads its thread pools
        self._build = build or local_builder(settings)
        self._items: dict[tuple[str, str], Any] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def _get(self, kind: str, name: str) -> Any:
        key = (kind, name)
        with self._guard:
            if key in self._items:
                return self._items[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one loader per key; other keys load in parallel
            if key not in self._items:
                engine = self._build(kind, name)
                engine.load()
                with self._guard:
                    self._items[key] = engine
        return self._items[key]

    def asr(self, model: str | None = None) -> Transcriber:
        engine: Transcriber = self._get("asr", model or self.settings.asr.model)
        return engine

    def tts(self, engine: str) -> Synthesizer:
        registry.get(engine, "tts")  # an unknown engine is an error before any build
        synth: Synthesizer = self._get("tts", engine)
        return synth

    def text(self) -> TextGenerator:
        """The text step's generator (`text.backend`), loaded once."""
        generator: TextGenerator = self._get("text", self.settings.text.backend)
        return generator

    def loaded(self) -> list[str]:
        with self._guard:
            return [f"{kind}:{name}{self.where}" for kind, name in self._items]
