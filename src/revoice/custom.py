"""The user's own voices: created, saved in the voices TOML file, removed.

Every change is validated exactly as the file is read (`voices.parse_user_voices`), then
written atomically, so the file is never half-written and never holds a voice that would
not load. Edits keep the user's comments and layout (tomlkit), and take a file lock, so the
CLI and a running server editing the file at once lose neither change.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from revoice import storage
from revoice import text as textsplit
from revoice.errors import InvalidOption, UnknownVoice, VoiceConfigError, VoiceExists
from revoice.types import Voice
from revoice.voices import OPENAI_VOICES, parse_user_voices

_lock = threading.Lock()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the voices file's lock: threads of this process and other processes (the CLI and
    a running server) take turns, so neither loses the other's change."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path.with_name(f".{path.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(path: Path) -> tomlkit.TOMLDocument:
    """The voices file as an editable document that keeps the user's comments and layout."""
    if not path.is_file():
        return tomlkit.document()
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except (tomlkit.exceptions.TOMLKitError, UnicodeDecodeError) as exc:
        raise VoiceConfigError(f"{path}: not valid TOML ({exc})") from None


def _write(path: Path, document: tomlkit.TOMLDocument) -> None:
    restore(path, tomlkit.dumps(document).encode("utf-8"))


def restore(path: Path, content: bytes) -> None:
    """Write the file's bytes atomically (a temp file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        if storage.is_full(exc):
            raise storage.full_error(exc, f"the voices file {path.name}") from None
        raise
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if storage.is_full(exc):  # the old file is untouched: only the temp file is lost
            raise storage.full_error(exc, f"the voices file {path.name}") from None
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _voices_table(document: tomlkit.TOMLDocument) -> Any:
    if "voices" not in document:
        document["voices"] = tomlkit.table(is_super_table=True)
    return document["voices"]


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
    with _locked(path):
        document = _read(path)
        voices = _voices_table(document)
        if voice_id in voices and not overwrite:
            raise VoiceExists(
                f"you already have a voice {voice_id!r}; ask to overwrite it to replace it"
            )
        table = tomlkit.table()
        for key, value in clean.items():
            if isinstance(value, Mapping):  # a blend: one line, as people write it
                inline = tomlkit.inline_table()
                inline.update(value)
                value = inline
            table[key] = value
        voices[voice_id] = table
        _write(path, document)
    return voice


def remove_voice(path: Path, voice_id: str) -> None:
    """Delete a user voice from the file; shipped voices cannot be removed."""
    with _locked(path):
        document = _read(path)
        voices = document.get("voices", {})
        if voice_id not in voices:
            raise UnknownVoice(voice_id, list(voices))
        del voices[voice_id]
        _write(path, document)
