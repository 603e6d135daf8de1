"""The user's own voices: created, saved in the voices TOML file, removed.

Every change is validated exactly as the file is read (`voices.parse_user_voices`), then
written atomically, so the file is never half-written and never holds a voice that would
not load.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from revoice import text as textsplit
from revoice.errors import InvalidOption, UnknownVoice, VoiceExists
from revoice.types import Voice
from revoice.voices import OPENAI_VOICES, parse_user_voices, read_voices_file

_lock = threading.Lock()


def _write(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            tomli_w.dump(dict(data), out)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def restore(path: Path, content: bytes) -> None:
    """Put back the file's earlier bytes (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def add_voice(
    path: Path,
    voice_id: str,
    spec: Mapping[str, Any],
    builtin: Mapping[str, Voice],
    *,
    overwrite: bool = False,
) -> Voice:
    """Validate `spec` as `[voices.<voice_id>]` and save it. A user voice of that id is
    replaced only when `overwrite`; shipped voices and OpenAI's voice names are reserved."""
    if voice_id in builtin or voice_id in OPENAI_VOICES:
        kind = "a shipped voice" if voice_id in builtin else "one of OpenAI's voice names"
        raise InvalidOption(f"{voice_id!r} is {kind}; choose another id", "id")
    clean = {
        k: textsplit.clean(v) if isinstance(v, str) else v for k, v in spec.items() if v is not None
    }
    (voice,) = parse_user_voices({"voices": {voice_id: clean}}, "new voice", builtin)
    with _lock:
        data = read_voices_file(path)
        voices = dict(data.get("voices", {}))
        if voice_id in voices and not overwrite:
            raise VoiceExists(
                f"you already have a voice {voice_id!r}; ask to overwrite it to replace it"
            )
        voices[voice_id] = clean
        _write(path, {**data, "voices": voices})
    return voice


def remove_voice(path: Path, voice_id: str) -> None:
    """Delete a user voice from the file; shipped voices cannot be removed."""
    with _lock:
        data = read_voices_file(path)
        voices = dict(data.get("voices", {}))
        if voice_id not in voices:
            raise UnknownVoice(voice_id, voices)
        del voices[voice_id]
        _write(path, {**data, "voices": voices})
