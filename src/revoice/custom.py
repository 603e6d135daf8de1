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

from revoice.errors import InvalidOption, UnknownVoice
from revoice.types import Voice
from revoice.voices import parse_user_voices, read_voices_file

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


def add_voice(
    path: Path, voice_id: str, spec: Mapping[str, Any], builtin: Mapping[str, Voice]
) -> Voice:
    """Validate `spec` as `[voices.<voice_id>]` and save it (replacing a user voice of that id)."""
    if voice_id in builtin:
        raise InvalidOption(f"{voice_id!r} is a shipped voice; choose another id", "id")
    clean = {k: v for k, v in spec.items() if v is not None}
    (voice,) = parse_user_voices({"voices": {voice_id: clean}}, "new voice", builtin)
    with _lock:
        data = read_voices_file(path)
        voices = dict(data.get("voices", {}))
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
