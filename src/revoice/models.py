"""The model cache: each engine (and each ASR model) is built and loaded once, then shared."""

from __future__ import annotations

import threading
from typing import Any

from revoice import registry, threads
from revoice.asr.base import Transcriber
from revoice.config import Settings
from revoice.textgen.base import TextGenerator
from revoice.tts.base import Synthesizer


class ModelCache:
    """Lazily builds engines from the registry; safe to share between threads and requests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        threads.configure(settings.spin)  # before any engine loads its thread pools
        self._items: dict[tuple[str, str], Any] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def _get(self, key: tuple[str, str], build: Any) -> Any:
        with self._guard:
            if key in self._items:
                return self._items[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one loader per key; other keys load in parallel
            if key not in self._items:
                engine = build()
                engine.load()
                with self._guard:
                    self._items[key] = engine
        return self._items[key]

    def asr(self, model: str | None = None) -> Transcriber:
        cfg = self.settings.asr
        name = model or cfg.model
        spec = registry.get(cfg.engine, "asr")
        engine: Transcriber = self._get(
            ("asr", name), lambda: spec.load_class()(self.settings, model=name)
        )
        return engine

    def tts(self, engine: str) -> Synthesizer:
        spec = registry.get(engine, "tts")
        synth: Synthesizer = self._get(("tts", engine), lambda: spec.load_class()(self.settings))
        return synth

    def text(self) -> TextGenerator:
        """The text step's generator (`text.backend`), loaded once."""
        from revoice import textgen

        name = self.settings.text.backend
        generator: TextGenerator = self._get(("text", name), lambda: textgen.create(self.settings))
        return generator

    def loaded(self) -> list[str]:
        with self._guard:
            return [f"{kind}:{name}" for kind, name in self._items]
