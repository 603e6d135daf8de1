"""The user's voices file (TOML): its schema, checked as it is read.

    [voices.my-narrator]
    engine = "kokoro"
    blend = { jf_alpha = 0.6, jm_kumo = 0.4 }
    speed = 1.1
    language = "en"
    gender = "female"
    description = "Alpha with a little Kumo"

    [voices.deeper]
    voice = "english-female"     # made from a catalogue voice
    pitch = -2.0
    formant = 0.95

What every voice says (id, languages, gender, speed, description) is checked here; what is
its engine's own (a Piper `model`, a Kokoro `blend`, a Bark `base`) is checked by the engine
(its row in revoice.registry: `user_voice`, `voice_file`, `blends`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from revoice import languages as known_languages
from revoice import registry
from revoice import text as textsplit
from revoice.effects import Effects
from revoice.errors import RevoiceError, VoiceConfigError
from revoice.tts.base import UserVoice
from revoice.types import SPEED, Voice, is_number

_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")


#: keys every user voice may carry on top of its engine's: the voice controls
EFFECT_KEYS = ("pitch", "formant", "volume")


def parse_user_voices(
    data: Mapping[str, Any],
    origin: str = "voices.toml",
    parents: Mapping[str, Voice] | None = None,
) -> list[Voice]:
    """Voices from a parsed voices TOML document (`[voices.<id>]` tables).

    A voice may start from a catalogue voice (`voice = "english-female"`) and change its
    speed, Kokoro blend and the voice controls (`pitch`, `formant`, `volume`).
    """
    table = data.get("voices", {})
    if not isinstance(table, Mapping):
        raise VoiceConfigError(f"{origin}: [voices] must be a table of voices")
    return [_with_effects(vid, spec, origin, parents or {}) for vid, spec in table.items()]


def _with_effects(vid: Any, spec: Any, origin: str, parents: Mapping[str, Voice]) -> Voice:
    where = f"{origin}: voice {vid!r}"
    if not isinstance(spec, Mapping):
        raise VoiceConfigError(f"{where} must be a table")
    rest = {k: v for k, v in spec.items() if k not in (*EFFECT_KEYS, "voice")}
    controls = {k: spec[k] for k in EFFECT_KEYS if k in spec}
    for key, value in controls.items():
        if not is_number(value):
            raise VoiceConfigError(f"{where}: {key} must be a number")
    try:
        effects = Effects(**{k: float(v) for k, v in controls.items()})
    except RevoiceError as exc:
        raise VoiceConfigError(f"{where}: {exc}") from None
    parent_id = spec.get("voice")
    if parent_id is None:
        voice = _user_voice(vid, rest, origin)
    else:
        voice = _derived_voice(vid, rest, where, parent_id, parents)
        # a preset may have controls of its own (hindi-male-1's formant): the user's go on top
        effects = effects.on(controls_of(voice))
    return replace(voice, pitch=effects.pitch, formant=effects.formant, volume=effects.volume)


def controls_of(voice: Voice) -> Effects:
    """The voice's own controls (pitch, formant, volume)."""
    return Effects(pitch=voice.pitch, formant=voice.formant, volume=voice.volume)


def _derived_voice(
    vid: Any, spec: Mapping[str, Any], where: str, parent_id: Any, parents: Mapping[str, Voice]
) -> Voice:
    """A user voice made from a catalogue voice, changing only what the spec names."""
    if not isinstance(vid, str) or not _ID.fullmatch(vid):
        raise VoiceConfigError(
            f"{where}: ids use lower-case letters, digits, '.', '_' and '-' (at most 63)"
        )
    if not isinstance(parent_id, str) or parent_id not in parents:
        raise VoiceConfigError(f"{where}: voice = {parent_id!r} is not a catalogue voice")
    parent = parents[parent_id]
    allowed = {"speed", "blend", "description", "gender", "language", "languages"}
    extra = sorted(set(spec) - allowed)
    if extra:
        raise VoiceConfigError(
            f"{where}: unknown keys {extra} for a voice made from another; "
            f"allowed: {sorted({*allowed, *EFFECT_KEYS, 'voice'})}"
        )
    speed = _speed(spec, parent.speed, where)
    blend = parent.blend
    if "blend" in spec:
        engine = registry.get(parent.engine, "tts").load_class()
        if not engine.blends:
            blending = [e.name for e in registry.engines("tts") if e.load_class().blends]
            raise VoiceConfigError(
                f"{where}: blend needs a voice of {' or '.join(blending)} (the engines that "
                f"blend styles), not {parent.engine}"
            )
        common = UserVoice(vid, where, parent.languages, parent.gender, "", parent.speed)
        blend = engine.user_voice({"blend": spec["blend"]}, common).blend
    languages = _languages(spec, parent.languages, where)
    gender = spec.get("gender", parent.gender)
    if gender not in ("male", "female", "neutral"):
        raise VoiceConfigError(f"{where}: gender must be male, female or neutral")
    description = _description(spec, f"{parent_id}, customised", where)
    return replace(
        parent,
        id=vid,
        source="user",
        speed=float(speed),
        blend=blend,
        languages=tuple(languages),
        gender=gender,
        description=description,
        parent=parent_id,
    )


def _user_voice(vid: str, spec: Any, origin: str) -> Voice:
    """A voice of an engine's own (no `voice =`): the common keys here, the rest by the
    engine."""
    where = f"{origin}: voice {vid!r}"
    if not isinstance(spec, Mapping):
        raise VoiceConfigError(f"{where} must be a table")
    if not isinstance(vid, str) or not _ID.fullmatch(vid):
        raise VoiceConfigError(
            f"{where}: ids use lower-case letters, digits, '.', '_' and '-' (at most 63)"
        )
    known = {
        "engine",
        "base",
        "model",
        "blend",
        "speed",
        "language",
        "languages",
        "gender",
        "description",
    }
    extra = sorted(set(spec) - known)
    if extra:
        raise VoiceConfigError(f"{where}: unknown keys {extra}; allowed: {sorted(known)}")
    name = str(spec.get("engine", "kokoro"))
    try:
        engine = registry.get(name, "tts").load_class()
    except RevoiceError as exc:
        raise VoiceConfigError(f"{where}: {exc}") from None
    languages = _languages(spec, ("en",), where)
    speed = _speed(spec, 1.0, where)
    gender = spec.get("gender", "neutral")
    if gender not in ("male", "female", "neutral"):
        raise VoiceConfigError(f"{where}: gender must be male, female or neutral")
    description = _description(spec, f"User voice ({name})", where)
    common = UserVoice(vid, where, tuple(languages), gender, description, speed)
    return engine.user_voice(spec, common)


def _speed(spec: Mapping[str, Any], default: float, where: str) -> float:
    speed = spec.get("speed", default)
    if not is_number(speed) or speed not in SPEED:
        raise VoiceConfigError(f"{where}: speed must be a number {SPEED.between}")
    return float(speed)


def _languages(spec: Mapping[str, Any], default: tuple[str, ...], where: str) -> list[str]:
    """The voice's `languages` (or `language`): codes Whisper knows, else `default`."""
    given = spec.get("languages") or ([spec["language"]] if "language" in spec else None)
    if given is None:
        return list(default)
    if (
        not isinstance(given, list)
        or not given
        or not all(isinstance(x, str) and x.lower() in known_languages.WHISPER for x in given)
    ):
        raise VoiceConfigError(
            f"{where}: language(s) must be codes Whisper knows, such as 'en' or 'hi'"
        )
    return [x.lower() for x in given]


#: longest voice description kept (a line in a list, not a document)
MAX_DESCRIPTION = 300


def _description(spec: Mapping[str, Any], default: str, where: str) -> str:
    text = textsplit.clean(str(spec.get("description", default)))
    if len(text) > MAX_DESCRIPTION:
        raise VoiceConfigError(f"{where}: description is longer than {MAX_DESCRIPTION} characters")
    return text


def read_voices_file(path: Path) -> dict[str, Any]:
    """The parsed voices TOML ({} when the file does not exist)."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise VoiceConfigError(f"{path}: not valid TOML ({exc})") from None


def load_user_voices(path: Path, parents: Mapping[str, Voice] | None = None) -> list[Voice]:
    return parse_user_voices(read_voices_file(path), str(path), parents)


def confine(voice: Voice, allowed: list[Path], origin: Path) -> None:
    """A user voice's model file must live in one of the voice directories: a voices file
    cannot make the server read arbitrary files."""
    if voice.parent is not None:
        return  # a made voice reads its parent's files, which are not the user's
    name = registry.get(voice.engine, "tts").load_class().voice_file(voice)
    if name is None:
        return
    target = Path(name).resolve()
    if not any(target.is_relative_to(d.expanduser().resolve()) for d in allowed):
        dirs = ", ".join(str(d) for d in allowed)
        raise VoiceConfigError(
            f"{origin}: voice {voice.id!r}: {voice.base} is outside the voice directories "
            f"({dirs}); move it there or add its directory to REVOICE_VOICE_DIRS"
        )
