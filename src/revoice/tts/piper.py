"""Piper voices (ONNX VITS), phonemised with the espeak-ng bundled in piper-tts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from revoice import assets
from revoice import text as textsplit
from revoice.audio import Audio
from revoice.config import Settings
from revoice.errors import EngineUnavailable
from revoice.tts.base import (
    UserVoice,
    effective_speed,
    onnx_providers,
    session_options,
    trim_silence,
    with_pause,
)
from revoice.tts.phonemes import phonemize
from revoice.types import SynthesisOptions, Voice

# Piper has no hard input limit, but shorter pieces reach the listener sooner.
_MAX_PHONEMES = 400


def joe(vid: str = "piper/joe", description: str | None = None) -> Voice:
    """The shipped Piper voice, en_US-joe-medium."""
    model, config = assets.piper_joe()
    return Voice(
        vid,
        "piper",
        ("en",),
        "male",
        int(json.loads(config.read_text())["audio"]["sample_rate"]),
        description or "Piper en_US-joe-medium: US English male, fast and clear",
        base=str(model),
    )


class PiperSynthesizer:
    """Speaks with any Piper voice; `voice.base` is the path of its .onnx model."""

    blends: ClassVar[bool] = False

    @staticmethod
    def voices(settings: Settings) -> list[Voice]:
        return [joe()]

    @staticmethod
    def user_voice(spec: Mapping[str, Any], common: UserVoice) -> Voice:
        """`model = "/path/to/voice.onnx"` (or `base`), with its `.onnx.json` beside it."""
        model = spec.get("model") or spec.get("base")
        if not isinstance(model, str) or not model:
            raise common.error('a piper voice needs model = "/path/to/voice.onnx"')
        try:
            path = Path(model).expanduser()
            config = Path(f"{path}.json")
            found = path.is_file() and config.is_file()
        except (OSError, RuntimeError, ValueError):  # unknown ~user, name too long, NUL byte
            found = False
            path = config = Path(model)
        if not found:
            raise common.error(f"model {path} (and {config.name}) not found")
        try:
            rate = int(json.loads(config.read_text())["audio"]["sample_rate"])
        except (ValueError, KeyError, TypeError, OSError):
            raise common.error(f"{config} is not a Piper voice config") from None
        return common.voice("piper", rate, str(path))

    @staticmethod
    def voice_file(voice: Voice) -> str | None:
        return voice.base

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._voices: dict[str, Any] = {}
        self._lock = threading.Lock()

    def load(self) -> None:
        """Piper models are loaded per voice, on first use."""

    def _voice(self, model: str) -> Any:
        with self._lock:
            if model not in self._voices:
                import onnxruntime
                from piper import PiperConfig, PiperVoice

                path = Path(model)
                config = Path(f"{model}.json")
                if not path.is_file() or not config.is_file():
                    raise EngineUnavailable(f"Piper voice model not found: {model} (+ .json)")
                # the session revoice's other ONNX engines get (threads, no spinning), not
                # `PiperVoice.load`'s defaults; on CUDA with Piper's own cuDNN setting
                providers: list[Any] = [
                    (p, {"cudnn_conv_algo_search": "HEURISTIC"}) if p.startswith("CUDA") else p
                    for p in onnx_providers(self._settings.tts.device)
                ]
                session = onnxruntime.InferenceSession(
                    str(path),
                    sess_options=session_options(self._settings.tts.threads),
                    providers=providers,
                )
                self._voices[model] = PiperVoice(
                    session=session,
                    config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
                    download_dir=self._settings.home / "cache" / "piper",  # never written: no zh
                )
            return self._voices[model]

    def synthesize(self, text: str, voice: Voice, options: SynthesisOptions) -> Iterator[Audio]:
        from piper import SynthesisConfig

        piper_voice = self._voice(voice.base)
        config = piper_voice.config
        lang = config.espeak_voice
        speed = effective_speed(voice, options)
        syn = SynthesisConfig(length_scale=config.length_scale / speed)
        pause = self._settings.tts.sentence_pause
        rate = config.sample_rate

        def fits(piece: str) -> bool:
            return sum(len(s) for s in phonemize(lang, piece)) <= _MAX_PHONEMES

        for piece in textsplit.pieces(text, fits):
            for sentence in phonemize(lang, piece):
                if not sentence:
                    continue
                ids = piper_voice.phonemes_to_ids(sentence)
                raw = np.asarray(piper_voice.phoneme_ids_to_audio(ids, syn), dtype=np.float32)
                peak = float(np.max(np.abs(raw))) if len(raw) else 0.0
                if peak > 1e-6:  # same level for every sentence, as piper's own synthesize
                    raw = raw / peak * 0.9
                yield with_pause(trim_silence(raw, rate), rate, pause)
