"""Typed values that cross module boundaries: transcripts, voices and per-call options."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from revoice import languages
from revoice.errors import InvalidOption

Task = Literal["transcribe", "translate"]
Gender = Literal["male", "female", "neutral"]


def is_number(value: object) -> bool:
    """A finite int or float, as a voices file means one (TOML booleans are not numbers)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Range:
    """The values one voice control takes: checked, clamped, and said the same way by every
    door (API schemas, CLI help, the page's sliders, realtime sessions)."""

    name: str
    low: float
    high: float
    unit: str = ""  # as the message says it: " semitones", " dB"

    def __contains__(self, value: object) -> bool:
        return (
            isinstance(value, int | float)
            and math.isfinite(value)
            and (self.low <= value <= self.high)
        )

    def check(self, value: float) -> float:
        if value not in self:
            raise InvalidOption(
                f"{self.name} must be {self.between}, not {value:g}",
                self.name,
            )
        return float(value)

    def clamp(self, value: float) -> float:
        return float(min(self.high, max(self.low, value)))

    @property
    def between(self) -> str:
        return f"between {self.low:g} and {self.high:g}{self.unit}"

    @property
    def help(self) -> str:
        return f"{self.low:g}..{self.high:g}{self.unit}"


#: speed: a factor of the voice's own pace; pitch: semitones; formant: vocal tract ratio
#: (< 1 deeper, > 1 brighter); volume: decibels
SPEED = Range("speed", 0.25, 4.0)
PITCH = Range("pitch", -12.0, 12.0, " semitones")
FORMANT = Range("formant", 0.7, 1.4)
VOLUME = Range("volume", -30.0, 12.0, " dB")


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
    #: Whisper's own decoding facts, as OpenAI's verbose_json carries them: the text's token
    #: ids, the gzip compression ratio of the text (Whisper's repetition measure), the
    #: sampling temperature the text was decoded at, and the window's offset in mel frames
    #: (100 a second). None where the engine did not report them.
    tokens: tuple[int, ...] = ()
    compression_ratio: float | None = None
    temperature: float | None = None
    seek: int = 0


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
    #: beam search width; None = the engine's setting (`asr.beam_size`), 1 = greedy
    beam_size: int | None = None
    #: with no `language`: the language the speech is expected in (a voice's), which wins
    #: over Whisper's own guess unless that is clearly English (`settle_language`)
    hint: str | None = None

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
        if self.hint is not None:
            object.__setattr__(self, "hint", languages.check(self.hint))
        if self.temperature is not None and not 0.0 <= self.temperature <= 1.0:
            raise InvalidOption("temperature must be between 0 and 1", "temperature")
        if self.beam_size is not None and not 1 <= self.beam_size <= 10:
            raise InvalidOption("beam_size must be between 1 and 10", "beam_size")


@dataclass(frozen=True)
class SynthesisOptions:
    """Per-call options for text to speech; None means the voice's own setting."""

    speed: float | None = None

    def __post_init__(self) -> None:
        if self.speed is not None:
            SPEED.check(self.speed)


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
