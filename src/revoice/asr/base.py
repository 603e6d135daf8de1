"""What every ASR engine provides."""

from __future__ import annotations

from typing import Protocol

from revoice.audio import Audio
from revoice.types import TranscribeOptions, Transcript

#: Whisper models take 16 kHz mono
WHISPER_RATE = 16000

#: A neutral Devanagari sentence given as Whisper's prompt when the language is Hindi: without
#: it Whisper base tends to write Hindi in Urdu script. A whole sentence, because short prompts
#: get echoed into the transcript.
HINDI_PROMPT = "नमस्ते, आज हम हिंदी में बात करेंगे और सब कुछ देवनागरी लिपि में लिखा जाएगा।"


class Transcriber(Protocol):
    def load(self) -> None:
        """Load the model (idempotent)."""

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcript:
        """The whole of `audio` as text, with timed segments."""
        ...

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """The most likely spoken language and its probability."""
        ...
