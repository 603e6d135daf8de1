"""Kokoro-82M (int8 ONNX) with the five shipped style packs, fed espeak-ng phonemes.

The model takes up to 510 phoneme tokens and a 256-d style vector chosen by input length
(`pack[len(tokens) - 1]`); it returns float32 audio at 24 kHz. Style packs can be blended with
weights to make new voices.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from revoice import assets
from revoice import text as textsplit
from revoice.audio import Audio
from revoice.config import Settings
from revoice.errors import UnknownName
from revoice.tts.base import (
    UserVoice,
    effective_speed,
    onnx_providers,
    session_options,
    trim_silence,
    with_pause,
)
from revoice.tts.phonemes import espeak_voice, phonemize
from revoice.types import SynthesisOptions, Voice, is_number

SAMPLE_RATE = 24000
MAX_TOKENS = 500  # the model's limit is 510; leave room for the boundary tokens
STYLES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
#: highest sample level Kokoro's output may reach: -1 dBFS. jm_kumo's raw output goes past
#: full scale (peak 1.14 on a short Hindi sentence), which encoders clip.
PEAK = 10.0 ** (-1.0 / 20.0)


_STYLE_GENDER = {"jf": "female", "jm": "male"}
#: Kokoro styles that are one speaker to the ear and to a speaker embedder (cosine 0.70-0.89
#: between them, against 0.88-0.95 for one style on two sentences)
_ONE_SPEAKER = ("jf_gongitsune", "jf_nezumi", "jf_tebukuro")


def kokoro_voice(
    vid: str,
    languages: tuple[str, ...],
    description: str,
    blend: Mapping[str, float],
    gender: str,
    speed: float = 1.0,
    pitch: float = 0.0,
    formant: float = 1.0,
) -> Voice:
    """A Kokoro voice: one style pack, or a blend of them (name -> weight)."""
    return Voice(
        id=vid,
        engine="kokoro",
        languages=languages,
        gender=gender,  # type: ignore[arg-type]
        sample_rate=SAMPLE_RATE,
        description=description,
        base=next(iter(blend)),
        blend=MappingProxyType(dict(blend)),
        speed=speed,
        pitch=pitch,
        formant=formant,
    )


def _same_speaker(style: str) -> str:
    if style not in _ONE_SPEAKER:
        return ""
    others = " and ".join(f"kokoro/{s}" for s in _ONE_SPEAKER if s != style)
    return f"; one speaker with {others}"


class KokoroSynthesizer:
    """Speaks English and Hindi (any espeak language, really) with Kokoro style packs."""

    blends: ClassVar[bool] = True

    @staticmethod
    def voices(settings: Settings) -> list[Voice]:
        """Each shipped style pack as a voice, `kokoro/<style>`."""
        return [
            kokoro_voice(
                f"kokoro/{name}",
                ("en", "hi"),
                f"Kokoro style {name}: a Japanese {_STYLE_GENDER[name[:2]]} speaker, English "
                f"and Hindi with a Japanese accent{_same_speaker(name)}",
                {name: 1.0},
                _STYLE_GENDER[name[:2]],
            )
            for name in STYLES
        ]

    @staticmethod
    def user_voice(spec: Mapping[str, Any], common: UserVoice) -> Voice:
        """`blend = {style = weight, ...}` or `base = "<style>"` (default jf_alpha)."""
        blend = spec.get("blend") or {str(spec.get("base", "jf_alpha")): 1.0}
        if not isinstance(blend, Mapping) or not blend:
            raise common.error("blend must be a table of style = weight")
        for name, weight in blend.items():
            if name not in STYLES:
                raise common.error(f"unknown Kokoro style {name!r}; valid: {', '.join(STYLES)}")
            if not is_number(weight) or not 0 < weight < 1e6:
                raise common.error(f"blend weight of {name} must be > 0 (a finite number)")
        voice = kokoro_voice(
            common.id,
            common.languages,
            common.description,
            {k: float(v) for k, v in blend.items()},
            common.gender,
            common.speed,
        )
        return replace(voice, source="user")

    @staticmethod
    def voice_file(voice: Voice) -> str | None:
        return None  # style packs ship with revoice

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session: Any = None
        self._vocab: dict[str, int] = {}
        self._packs: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime

            data = assets.kokoro_data()
            vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
            with (data / "voices_ja.npz").open("rb") as handle, np.load(handle) as npz:
                packs = {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}
            model = assets.kokoro_model(self._settings.home)
            self._session = onnxruntime.InferenceSession(
                str(model),
                sess_options=session_options(self._settings.tts.threads),
                providers=onnx_providers(self._settings.tts.device),
            )
            self._vocab, self._packs = vocab, packs

    def styles(self) -> tuple[str, ...]:
        return STYLES

    def style_pack(self, blend: Mapping[str, float]) -> np.ndarray:
        """The weighted mix of style packs (weights are normalised to sum to 1)."""
        self.load()
        unknown = [name for name in blend if name not in self._packs]
        if unknown:
            raise UnknownName("kokoro style", unknown[0], self._packs)
        total = sum(blend.values())
        return sum(  # type: ignore[return-value]
            self._packs[name] * (weight / total) for name, weight in blend.items()
        )

    def tokens(self, phonemes: str) -> list[int]:
        return [self._vocab[ch] for ch in phonemes if ch in self._vocab]

    def phonemes(self, text: str, language: str) -> str:
        """espeak-ng IPA for `text`, adapted to Kokoro's phoneme set."""
        ipa = "".join("".join(sentence) for sentence in phonemize(espeak_voice(language), text))
        if language == "en":
            # Kokoro's English set writes the approximant as ɹ (espeak: r), and r-coloured
            # vowels as vowel + ɹ: with ɚ -> ɜɹ the round-trip WER of jf_alpha on four test
            # sentences fell from 0.175 to 0.075 (jm_kumo unchanged at 0.025).
            ipa = ipa.replace("r", "ɹ").replace("ɚ", "ɜɹ")
        return ipa

    def synthesize(self, text: str, voice: Voice, options: SynthesisOptions) -> Iterator[Audio]:
        self.load()
        pack = self.style_pack(voice.blend or {voice.base: 1.0})
        language = textsplit.script_language(text) or (
            voice.language if voice.language != "hi" else "en"
        )
        speed = np.array([effective_speed(voice, options)], dtype=np.float32)
        pause = self._settings.tts.sentence_pause

        def fits(piece: str) -> bool:
            return len(self.tokens(self.phonemes(piece, language))) <= MAX_TOKENS

        for piece in textsplit.pieces(text, fits):
            ids = self.tokens(self.phonemes(piece, language))
            if not ids:
                continue
            style = pack[min(len(ids), len(pack)) - 1].reshape(1, -1)
            out = self._session.run(
                None,
                {
                    "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                    "style": style.astype(np.float32),
                    "speed": speed,
                },
            )[0]
            samples = headroom(np.asarray(out, dtype=np.float32).reshape(-1))
            yield with_pause(trim_silence(samples, SAMPLE_RATE), SAMPLE_RATE, pause)


def headroom(samples: np.ndarray, peak: float = PEAK) -> np.ndarray:
    """The samples scaled down so that none exceeds `peak` (quieter audio is left alone).

    Per piece (a sentence), since the audio streams: a loud sentence comes out a little
    quieter rather than clipped.
    """
    top = float(np.max(np.abs(samples))) if len(samples) else 0.0
    return samples * np.float32(peak / top) if top > peak else samples
