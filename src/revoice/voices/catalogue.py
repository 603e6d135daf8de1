"""The voice catalogue: every voice by id, what a voice looks like to the API and the CLI,
and what a preview says."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from revoice import registry
from revoice.config import Settings
from revoice.errors import UnknownVoice
from revoice.types import Voice
from revoice.voices.presets import OPENAI_VOICES, builtin_voices
from revoice.voices.userfile import confine, load_user_voices


class Catalogue:
    """All voices by id; lookups of unknown ids raise an error listing the valid ones."""

    def __init__(self, voices: list[Voice]) -> None:
        self._voices: dict[str, Voice] = {}
        for voice in voices:
            self._voices[voice.id] = voice  # a user voice may override a shipped id

    @classmethod
    def load(cls, voices_file: Path | None, settings: Settings) -> Catalogue:
        builtin = builtin_voices(settings)
        parents = {v.id: v for v in builtin}
        users = load_user_voices(voices_file, parents) if voices_file else []
        if voices_file:
            allowed = [voices_file.parent, settings.home / "voices", *settings.voice_dirs]
            for voice in users:
                confine(voice, allowed, voices_file)
        return cls([*builtin, *users])

    def get(self, voice_id: str) -> Voice:
        key = voice_id.strip()
        if key in self._voices:
            return self._voices[key]
        if key.lower() in self._voices:
            return self._voices[key.lower()]
        alias = OPENAI_VOICES.get(key.lower())
        if alias in self._voices:
            return self._voices[alias]
        aliases = sorted(a for a, target in OPENAI_VOICES.items() if target in self._voices)
        error = UnknownVoice(voice_id, self._voices, also=aliases)
        # an engine with many voices (Bark's 130 presets) would crowd every other voice out
        # of the message: its shipped voices are said as what they are and their ids' shape
        patterns = {e.name: e.voice_pattern for e in registry.engines("tts") if e.voice_pattern}

        def pattern(voice: Voice) -> str | None:
            return patterns.get(voice.engine) if voice.source != "user" else None

        many = Counter(p for p in map(pattern, self._voices.values()) if p)
        if many:
            others = sorted(v.id for v in self._voices.values() if not pattern(v))
            shapes = ", ".join(f"{n} {p}" for p, n in many.items())
            error.args = (
                f"unknown voice {voice_id!r}{error.hint}; valid voices: {', '.join(others)}, "
                f"and {shapes}",
            )
        if aliases:
            error.args = (f"{error.args[0]}; OpenAI voice names: {', '.join(aliases)}",)
        raise error

    def __contains__(self, voice_id: object) -> bool:
        if not isinstance(voice_id, str):
            return False
        key = voice_id.strip()
        return key in self._voices or key.lower() in self._voices

    def __iter__(self) -> Iterator[Voice]:
        return iter(self._voices.values())

    def __len__(self) -> int:
        return len(self._voices)

    def ids(self) -> list[str]:
        return list(self._voices)

    def speaking(self, language: str) -> list[Voice]:
        """The voices that speak `language` ('en', 'hi', ...), in catalogue order."""
        return [v for v in self._voices.values() if language in v.languages]


#: what a preview says, per language
PREVIEW_TEXTS = {
    "en": "Hello! This is how I sound. I can read your words aloud.",
    "hi": "नमस्ते! मेरी आवाज़ ऐसी है। मैं आपके शब्द पढ़ सकती हूँ।",
}


def voice_record(voice: Voice) -> dict[str, Any]:
    """A voice as the API's voice list and `revoice voices --json` show it (one shape for
    both): what it is, where it came from, and the controls it was made with."""
    return {
        "id": voice.id,
        "name": voice.id,
        "object": "voice",
        "engine": voice.engine,
        "languages": list(voice.languages),
        "gender": voice.gender,
        "sample_rate": voice.sample_rate,
        "description": voice.description,
        "source": voice.source,
        "parent": voice.parent,
        "pitch": voice.pitch,
        "formant": voice.formant,
        "volume": voice.volume,
        "speed": voice.speed,
    }


def preview_text(voice: Voice) -> str:
    """A short sample sentence in the voice's main language."""
    return PREVIEW_TEXTS.get(voice.language, PREVIEW_TEXTS["en"])
