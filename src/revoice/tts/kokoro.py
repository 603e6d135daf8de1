"""Kokoro-82M (int8 ONNX) with the five shipped style packs, fed espeak-ng phonemes.

The model takes up to 510 phoneme tokens and a 256-d style vector chosen by input length
(`pack[len(tokens) - 1]`); it returns float32 audio at 24 kHz. Style packs can be blended with
weights to make new voices.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from revoice import assets
from revoice import text as textsplit
from revoice.audio import Audio
from revoice.config import Settings
from revoice.errors import UnknownName
from revoice.tts.base import (
    effective_speed,
    onnx_providers,
    session_options,
    trim_silence,
    with_pause,
)
from revoice.tts.phonemes import espeak_voice, phonemize
from revoice.types import SynthesisOptions, Voice

SAMPLE_RATE = 24000
MAX_TOKENS = 500  # the model's limit is 510; leave room for the boundary tokens
STYLES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")


class KokoroSynthesizer:
    """Speaks English and Hindi (any espeak language, really) with Kokoro style packs."""

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
            samples = np.asarray(out, dtype=np.float32).reshape(-1)
            yield with_pause(trim_silence(samples, SAMPLE_RATE), SAMPLE_RATE, pause)
