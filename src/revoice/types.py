"""Typed values that cross module boundaries: transcripts, voices and per-call options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from revoice import languages
from revoice.errors import InvalidOption

Task = Literal["transcribe", "translate"]
Gender = Literal["male", "female", "neutral"]


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """A stretch of speech with its text; times in seconds from the start of the input."""

    id: int
    start: float
    end: float
    text: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    duration: float
    segments: tuple[Segment, ...] = ()
    language_probability: float = 1.0
    task: Task = "transcribe"


@dataclass(frozen=True)
class TranscribeOptions:
    """Per-call options for speech to text; None means the engine's default."""

    language: str | None = None
    task: Task = "transcribe"
    prompt: str | None = None
    temperature: float | None = None
    word_timestamps: bool = False
    vad: bool = True

    def __post_init__(self) -> None:
        if self.task not in ("transcribe", "translate"):
            raise InvalidOption(
                f"task must be 'transcribe' or 'translate', not {self.task!r}", "task"
            )
        if self.language is not None:
            lang = self.language.strip().lower()
            if lang in ("", "auto"):
                lang_value: str | None = None
            else:
                lang_value = languages.check(self.language)
            object.__setattr__(self, "language", lang_value)
        if self.temperature is not None and not 0.0 <= self.temperature <= 1.0:
            raise InvalidOption("temperature must be between 0 and 1", "temperature")


@dataclass(frozen=True)
class SynthesisOptions:
    """Per-call options for text to speech; None means the voice's own setting."""

    speed: float | None = None

    def __post_init__(self) -> None:
        if self.speed is not None and not 0.25 <= self.speed <= 4.0:
            raise InvalidOption(f"speed must be between 0.25 and 4.0, not {self.speed}", "speed")


@dataclass(frozen=True)
class Voice:
    """One entry of the voice catalogue.

    `base` names what the engine loads (a Piper model path, a Kokoro style pack name, ...);
    `blend` holds Kokoro style weights (name -> weight) when the voice mixes packs.
    """

    id: str
    engine: str
    languages: tuple[str, ...]
    gender: Gender
    sample_rate: int
    description: str
    base: str = ""
    blend: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    speed: float = 1.0
    source: Literal["builtin", "user"] = "builtin"
    #: voice controls applied to the engine's output (see revoice.effects)
    pitch: float = 0.0  # semitones
    formant: float = 1.0  # vocal-tract ratio: > 1 brighter, < 1 deeper
    volume: float = 0.0  # dB
    #: the catalogue voice a custom voice was made from, if any
    parent: str | None = None

    @property
    def language(self) -> str:
        """The voice's main language (the first of `languages`)."""
        return self.languages[0]
