"""IPA phonemes from the espeak-ng that ships inside piper-tts (no system espeak needed).

espeak-ng keeps global state (the current voice), so every call goes through one lock.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_phonemizer: Any = None

#: espeak-ng voice for each language revoice speaks with espeak-based engines
ESPEAK_VOICES = {"en": "en-us", "hi": "hi"}


def espeak_voice(language: str) -> str:
    return ESPEAK_VOICES.get(language, language)


def phonemize(espeak_voice_name: str, text: str) -> list[list[str]]:
    """Phonemes of `text` grouped by sentence, as piper's espeak bridge returns them."""
    global _phonemizer
    with _lock:
        if _phonemizer is None:
            from piper.phonemize_espeak import EspeakPhonemizer

            _phonemizer = EspeakPhonemizer()
        result: list[list[str]] = _phonemizer.phonemize(espeak_voice_name, text)
        return result
