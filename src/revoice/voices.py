"""The voice catalogue: shipped voices, the seed's seven presets, and the user's own voices.

The seed's presets are bound to shipped voices of the same language and gender (see
docs/voices.md for the mapping and why). User voices come from a TOML file:

    [voices.my-narrator]
    engine = "kokoro"
    blend = { jf_alpha = 0.6, jm_kumo = 0.4 }
    speed = 1.1
    language = "en"
    gender = "female"
    description = "Alpha with a little Kumo"
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from revoice import assets, registry
from revoice.errors import UnknownVoice, VoiceConfigError
from revoice.tts.kokoro import SAMPLE_RATE as KOKORO_RATE
from revoice.tts.kokoro import STYLES as KOKORO_STYLES
from revoice.types import Voice

SEED_PRESETS = (
    "english-male-1",
    "english-male-2",
    "english-female",
    "hindi-male-1",
    "hindi-male-2",
    "hindi-female-1",
    "hindi-female-2",
)
#: OpenAI's voice names, for clients that only know those (documented in docs/voices.md)
OPENAI_VOICES = {
    "alloy": "english-female",
    "echo": "english-male-1",
    "fable": "english-male-2",
    "onyx": "kokoro/jm_kumo",
    "nova": "kokoro/jf_gongitsune",
    "shimmer": "kokoro/jf_tebukuro",
}
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_STYLE_GENDER = {"jf": "female", "jm": "male"}


def _kokoro(
    vid: str,
    languages: tuple[str, ...],
    description: str,
    blend: Mapping[str, float],
    gender: str,
    speed: float = 1.0,
) -> Voice:
    return Voice(
        id=vid,
        engine="kokoro",
        languages=languages,
        gender=gender,  # type: ignore[arg-type]
        sample_rate=KOKORO_RATE,
        description=description,
        base=next(iter(blend)),
        blend=MappingProxyType(dict(blend)),
        speed=speed,
    )


def builtin_voices() -> list[Voice]:
    """Every shipped voice, then the seed's seven preset names bound to them."""
    joe_model, joe_config = assets.piper_joe()
    joe_rate = int(json.loads(joe_config.read_text())["audio"]["sample_rate"])
    joe = Voice(
        "piper/joe",
        "piper",
        ("en",),
        "male",
        joe_rate,
        "Piper en_US-joe-medium: US English male, fast and clear",
        base=str(joe_model),
    )
    styles = [
        _kokoro(
            f"kokoro/{name}",
            ("en", "hi"),
            f"Kokoro style {name} ({_STYLE_GENDER[name[:2]]}); speaks English and Hindi "
            "with a Japanese accent",
            {name: 1.0},
            _STYLE_GENDER[name[:2]],
        )
        for name in KOKORO_STYLES
    ]
    presets = [
        Voice(
            "english-male-1",
            "piper",
            ("en",),
            "male",
            joe_rate,
            "Seed preset: US English male (Piper joe)",
            base=str(joe_model),
        ),
        _kokoro(
            "english-male-2",
            ("en",),
            "Seed preset: English male (Kokoro jm_kumo)",
            {"jm_kumo": 1.0},
            "male",
        ),
        _kokoro(
            "english-female",
            ("en",),
            "Seed preset: English female (Kokoro jf_alpha)",
            {"jf_alpha": 1.0},
            "female",
        ),
        _kokoro(
            "hindi-male-1",
            ("hi",),
            "Seed preset: Hindi male (Kokoro jm_kumo)",
            {"jm_kumo": 1.0},
            "male",
        ),
        _kokoro(
            "hindi-male-2",
            ("hi",),
            "Seed preset: Hindi male, slower and softer (Kokoro 85% jm_kumo + 15% jf_nezumi)",
            {"jm_kumo": 0.85, "jf_nezumi": 0.15},
            "male",
            speed=0.9,
        ),
        _kokoro(
            "hindi-female-1",
            ("hi",),
            "Seed preset: Hindi female (Kokoro jf_alpha)",
            {"jf_alpha": 1.0},
            "female",
        ),
        _kokoro(
            "hindi-female-2",
            ("hi",),
            "Seed preset: Hindi female (Kokoro jf_gongitsune)",
            {"jf_gongitsune": 1.0},
            "female",
        ),
    ]
    return [*presets, joe, *styles]


def parse_user_voices(data: Mapping[str, Any], origin: str = "voices.toml") -> list[Voice]:
    """Voices from a parsed voices TOML document (`[voices.<id>]` tables)."""
    table = data.get("voices", {})
    if not isinstance(table, Mapping):
        raise VoiceConfigError(f"{origin}: [voices] must be a table of voices")
    return [_user_voice(vid, spec, origin) for vid, spec in table.items()]


def _user_voice(vid: str, spec: Any, origin: str) -> Voice:
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
    engine = str(spec.get("engine", "kokoro"))
    try:
        registry.get(engine, "tts")
    except Exception as exc:
        raise VoiceConfigError(f"{where}: {exc}") from None
    languages = spec.get("languages") or [spec.get("language", "en")]
    if not isinstance(languages, list) or not all(
        isinstance(x, str) and x.isalpha() and 2 <= len(x) <= 3 for x in languages
    ):
        raise VoiceConfigError(f"{where}: language(s) must be codes such as 'en' or 'hi'")
    speed = spec.get("speed", 1.0)
    if not _number(speed) or not 0.25 <= speed <= 4.0:
        raise VoiceConfigError(f"{where}: speed must be a number between 0.25 and 4.0")
    gender = spec.get("gender", "neutral")
    if gender not in ("male", "female", "neutral"):
        raise VoiceConfigError(f"{where}: gender must be male, female or neutral")
    description = str(spec.get("description", f"User voice ({engine})"))
    if engine == "kokoro":
        blend = spec.get("blend") or {str(spec.get("base", "jf_alpha")): 1.0}
        if not isinstance(blend, Mapping) or not blend:
            raise VoiceConfigError(f"{where}: blend must be a table of style = weight")
        for name, weight in blend.items():
            if name not in KOKORO_STYLES:
                raise VoiceConfigError(
                    f"{where}: unknown Kokoro style {name!r}; valid: {', '.join(KOKORO_STYLES)}"
                )
            if not _number(weight) or not 0 < weight < 1e6:
                raise VoiceConfigError(
                    f"{where}: blend weight of {name} must be > 0 (a finite number)"
                )
        voice = _kokoro(
            vid,
            tuple(languages),
            description,
            {k: float(v) for k, v in blend.items()},
            gender,
            float(speed),
        )
        return Voice(**{**voice.__dict__, "source": "user"})
    model = spec.get("model") or spec.get("base")
    if not isinstance(model, str) or not model:
        raise VoiceConfigError(f'{where}: a {engine} voice needs model = "/path/to/voice.onnx"')
    try:
        path = Path(model).expanduser()
        config = Path(f"{path}.json")
        found = path.is_file() and config.is_file()
    except (OSError, RuntimeError, ValueError):  # unknown ~user, name too long, NUL byte
        found = False
        path = config = Path(model)
    if not found:
        raise VoiceConfigError(f"{where}: model {path} (and {config.name}) not found")
    try:
        rate = int(json.loads(config.read_text())["audio"]["sample_rate"])
    except (ValueError, KeyError, TypeError, OSError):
        raise VoiceConfigError(f"{where}: {config} is not a Piper voice config") from None
    return Voice(
        vid,
        engine,
        tuple(languages),
        gender,
        rate,
        description,
        base=str(path),
        speed=float(speed),
        source="user",
    )


def _number(value: object) -> bool:
    """A finite int or float (TOML booleans are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def load_user_voices(path: Path) -> list[Voice]:
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise VoiceConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_user_voices(data, str(path))


class Catalogue:
    """All voices by id; lookups of unknown ids raise an error listing the valid ones."""

    def __init__(self, voices: list[Voice]) -> None:
        self._voices: dict[str, Voice] = {}
        for voice in voices:
            self._voices[voice.id] = voice  # a user voice may override a shipped id

    @classmethod
    def load(cls, voices_file: Path | None = None) -> Catalogue:
        users = load_user_voices(voices_file) if voices_file else []
        return cls([*builtin_voices(), *users])

    def get(self, voice_id: str) -> Voice:
        key = voice_id.strip()
        if key in self._voices:
            return self._voices[key]
        if key.lower() in self._voices:
            return self._voices[key.lower()]
        alias = OPENAI_VOICES.get(key.lower())
        if alias in self._voices:
            return self._voices[alias]
        raise UnknownVoice(voice_id, self._voices)

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
