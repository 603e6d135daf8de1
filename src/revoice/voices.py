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
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from revoice import assets, registry
from revoice import languages as known_languages
from revoice import text as textsplit
from revoice.config import BarkSettings, Settings
from revoice.device import installed
from revoice.effects import Effects
from revoice.errors import RevoiceError, UnknownVoice, VoiceConfigError
from revoice.tts import bark
from revoice.tts.kokoro import SAMPLE_RATE as KOKORO_RATE
from revoice.tts.kokoro import STYLES as KOKORO_STYLES
from revoice.tts.system import preset_bindings, system_voices
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
    # OpenAI's newer voices (LiveKit's default is ash; Pipecat accepts all of them)
    "ash": "english-male-1",
    "ballad": "kokoro/jm_kumo",
    "cedar": "english-male-1",
    "coral": "kokoro/jf_alpha",
    "marin": "kokoro/jf_nezumi",
    "sage": "kokoro/jf_nezumi",
    "verse": "kokoro/jm_kumo",
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


def bark_listed(cfg: BarkSettings) -> bool:
    """Whether the Bark presets belong in the catalogue (checked without importing torch)."""
    if cfg.voices == "auto":
        return cfg.seed_presets or installed("torch", "transformers")
    return cfg.voices == "on"


def builtin_voices(settings: Settings | None = None) -> list[Voice]:
    """The seed's seven preset names, every shipped voice, then Bark's presets when the bark
    extra is installed (settings: `bark.voices`, `bark.seed_presets`; default: the
    environment's)."""
    cfg = (settings or Settings()).bark
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
    system = system_voices()  # festival, flite, espeak-ng: those installed, else none
    bound = preset_bindings(system)  # hindi-male-2 -> festival's NSK when it is installed
    presets = [bound.get(v.id, v) for v in presets]
    if cfg.seed_presets:  # the seed's own binding: the seven names speak with Bark
        presets = bark.seed_voices()
    return [*presets, joe, *styles, *system, *(bark.preset_voices() if bark_listed(cfg) else [])]


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
        if not _number(value):
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
    return replace(voice, pitch=effects.pitch, formant=effects.formant, volume=effects.volume)


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
    speed = spec.get("speed", parent.speed)
    if not _number(speed) or not 0.25 <= speed <= 4.0:
        raise VoiceConfigError(f"{where}: speed must be a number between 0.25 and 4.0")
    blend = parent.blend
    if "blend" in spec:
        if parent.engine != "kokoro":
            raise VoiceConfigError(f"{where}: blend needs a Kokoro voice, not {parent.engine}")
        blend = _user_voice(vid, {"engine": "kokoro", "blend": spec["blend"]}, where).blend
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
    languages = _languages(spec, ("en",), where)
    speed = spec.get("speed", 1.0)
    if not _number(speed) or not 0.25 <= speed <= 4.0:
        raise VoiceConfigError(f"{where}: speed must be a number between 0.25 and 4.0")
    gender = spec.get("gender", "neutral")
    if gender not in ("male", "female", "neutral"):
        raise VoiceConfigError(f"{where}: gender must be male, female or neutral")
    description = _description(spec, f"User voice ({engine})", where)
    if engine not in ("kokoro", "piper", "bark"):
        raise VoiceConfigError(
            f"{where}: {engine} voices come from the system; customise one with "
            f'voice = "{engine}/..." (see `revoice voices`)'
        )
    if engine == "bark":
        return _user_bark_voice(vid, spec, where, tuple(languages), gender, description, speed)
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


def _user_bark_voice(
    vid: str,
    spec: Mapping[str, Any],
    where: str,
    languages: tuple[str, ...],
    gender: Any,
    description: str,
    speed: float,
) -> Voice:
    """A Bark voice: a v2 preset name, or a .npz history prompt of your own."""
    base = spec.get("base") or spec.get("model") or "v2/en_speaker_6"
    if isinstance(base, str) and base.endswith(".npz"):
        try:
            found = Path(base).expanduser().is_file()
        except (OSError, RuntimeError, ValueError):
            found = False
        if not found:
            raise VoiceConfigError(f"{where}: Bark voice file {base} not found")
        base = str(Path(base).expanduser())
    elif base not in bark.PRESETS:
        raise VoiceConfigError(
            f"{where}: base must be a Bark preset such as 'v2/en_speaker_6' "
            f"(v2/<{'|'.join(bark.LANGUAGES)}>_speaker_<0-9>) or a .npz voice file"
        )
    return Voice(
        vid,
        "bark",
        languages,
        gender,
        bark.SAMPLE_RATE,
        description,
        base=str(base),
        speed=float(speed),
        source="user",
    )


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


def _number(value: object) -> bool:
    """A finite int or float (TOML booleans are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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
    if voice.parent is not None or not (voice.engine == "piper" or voice.base.endswith(".npz")):
        return
    target = Path(voice.base).resolve()
    if not any(target.is_relative_to(d.expanduser().resolve()) for d in allowed):
        dirs = ", ".join(str(d) for d in allowed)
        raise VoiceConfigError(
            f"{origin}: voice {voice.id!r}: {voice.base} is outside the voice directories "
            f"({dirs}); move it there or add its directory to REVOICE_VOICE_DIRS"
        )


class Catalogue:
    """All voices by id; lookups of unknown ids raise an error listing the valid ones."""

    def __init__(self, voices: list[Voice]) -> None:
        self._voices: dict[str, Voice] = {}
        for voice in voices:
            self._voices[voice.id] = voice  # a user voice may override a shipped id

    @classmethod
    def load(cls, voices_file: Path | None = None, settings: Settings | None = None) -> Catalogue:
        builtin = builtin_voices(settings)
        parents = {v.id: v for v in builtin}
        users = load_user_voices(voices_file, parents) if voices_file else []
        if voices_file:
            cfg = settings or Settings()
            allowed = [voices_file.parent, cfg.home / "voices", *cfg.voice_dirs]
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
        error = UnknownVoice(voice_id, self._voices)
        presets = [v for v in self._voices if v.startswith("bark/v2/")]
        if presets:  # 130 Bark ids would crowd every other voice out of the message
            others = sorted(v for v in self._voices if not v.startswith("bark/v2/"))
            error.args = (
                f"unknown voice {voice_id!r}; valid voices: {', '.join(others)}, and "
                f"{len(presets)} Bark presets bark/v2/<language>_speaker_<0-9>",
            )
        aliases = sorted(a for a, target in OPENAI_VOICES.items() if target in self._voices)
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


def preview_text(voice: Voice) -> str:
    """A short sample sentence in the voice's main language."""
    return PREVIEW_TEXTS.get(voice.language, PREVIEW_TEXTS["en"])
