"""What every ASR engine provides."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from revoice.audio import Audio
from revoice.types import Segment, Task, TranscribeOptions, Transcript

#: Whisper models take 16 kHz mono
WHISPER_RATE = 16000

#: A neutral Devanagari sentence given as Whisper's prompt when the language is Hindi: without
#: it Whisper base tends to write Hindi in Urdu script. A whole, plain sentence: short prompts,
#: and prompts with distinctive words, get echoed into the transcript. Of three candidates this
#: one gave the lowest character error rate on synthetic Hindi (0.30; no prompt: 1.7).
HINDI_PROMPT = "यह रिकॉर्डिंग हिंदी भाषा में है। कृपया इसे ध्यान से सुनिए और लिखिए।"


#: the languages Whisper's multilingual models transcribe, as Whisper writes their codes
WHISPER_LANGUAGES = tuple(
    """af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw
    he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt
    my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl
    tr tt uk ur uz vi yi yo zh yue""".split()
)


def model_languages(model: str) -> tuple[str, ...]:
    """The languages a Whisper model transcribes: only English for the `.en` models."""
    return ("en",) if model.lower().rstrip("/").endswith(".en") else WHISPER_LANGUAGES


#: Whisper's guess of English at least this sure overrules a non-English hint
SURE_ENGLISH = 0.5


def settle_language(detected: str, probability: float, hint: str | None) -> str:
    """The language to transcribe in, from Whisper's guess and the caller's hint.

    Whisper's language ID is unreliable on Hindi (Kokoro's Hindi presets were heard as Arabic,
    Bengali, Japanese or Indonesian in 8 of 12 sentences), so a non-English hint (a Hindi
    voice) wins unless the speech is clearly English; an English hint, or none, leaves
    Whisper's guess."""
    if hint is None or hint == "en":
        return detected
    if detected == "en" and probability >= SURE_ENGLISH:
        return "en"
    return hint


@dataclass
class TranscriptStream:
    """A transcription in progress: what is known up front, and segments as they are decoded."""

    language: str
    language_probability: float
    duration: float
    task: Task
    segments: Iterator[Segment]

    def collect(self) -> Transcript:
        """Decode everything and return the whole transcript."""
        segments = tuple(self.segments)
        text = " ".join(s.text for s in segments if s.text).strip()
        return Transcript(
            text, self.language, self.duration, segments, self.language_probability, self.task
        )


class Transcriber(Protocol):
    def load(self) -> None:
        """Load the model (idempotent)."""

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcript:
        """The whole of `audio` as text, with timed segments."""
        ...

    def stream(self, audio: Audio, options: TranscribeOptions) -> TranscriptStream:
        """Like `transcribe`, with segments yielded as they are decoded."""
        ...

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """The most likely spoken language and its probability."""
        ...
