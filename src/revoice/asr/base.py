"""What every ASR engine provides."""

from __future__ import annotations

from typing import Protocol

from revoice.audio import Audio
from revoice.types import TranscribeOptions, Transcript

#: Whisper models take 16 kHz mono
WHISPER_RATE = 16000

#: A neutral Devanagari sentence given as Whisper's prompt when the language is Hindi: without
#: it Whisper base tends to write Hindi in Urdu script. A whole, plain sentence: short prompts,
#: and prompts with distinctive words, get echoed into the transcript. Of three candidates this
#: one gave the lowest character error rate on synthetic Hindi (0.30; no prompt: 1.7).
HINDI_PROMPT = "यह रिकॉर्डिंग हिंदी भाषा में है। कृपया इसे ध्यान से सुनिए और लिखिए।"


class Transcriber(Protocol):
    def load(self) -> None:
        """Load the model (idempotent)."""

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcript:
        """The whole of `audio` as text, with timed segments."""
        ...

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """The most likely spoken language and its probability."""
        ...
