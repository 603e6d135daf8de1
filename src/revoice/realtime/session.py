"""A realtime session's configuration, and how `session.update` changes it.

Both shapes are read: GA (`{"type": "realtime", "audio": {"input": {...}, "output": {...}}}`)
and beta (`input_audio_format`, `turn_detection`, `voice`, ... at the top level). Fields
revoice has no use for (tools, tracing, truncation, ...) are accepted and ignored. revoice's
own field is `revoice`: `{"mode": "none" | "translate" | "reply", "instruction": str, "live":
bool}` (`live`: re-speak each sentence while the person is still talking; see `Conversation`).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from revoice.errors import InvalidOption
from revoice.pipeline import TEXT_MODES, TextMode
from revoice.realtime.formats import AudioFormat, parse_format
from revoice.realtime.turns import ServerVad
from revoice.types import SPEED

Kind = Literal["realtime", "transcription"]
#: `semantic_vad` eagerness -> (Smart Turn's probability that ends a turn at a pause, the
#: longest pause a turn holds whatever Smart Turn says)
EAGERNESS = {"low": (0.8, 4000), "medium": (0.5, 2000), "auto": (0.5, 2000), "high": (0.3, 1000)}


@dataclass(frozen=True)
class SessionConfig:
    kind: Kind = "realtime"
    id: str = field(default_factory=lambda: "sess_" + secrets.token_hex(12))
    model: str = "gpt-realtime"
    instructions: str = ""
    output_modalities: tuple[str, ...] = ("audio",)
    input_format: AudioFormat = field(default_factory=AudioFormat)
    output_format: AudioFormat = field(default_factory=AudioFormat)
    #: the voice as the client named it; None = revoice's default voice
    voice: str | None = None
    speed: float | None = None
    transcription_model: str = "whisper-1"
    language: str | None = None
    prompt: str | None = None
    turn_detection: ServerVad | None = field(default_factory=ServerVad)
    #: what the turn detection was asked as: server_vad or semantic_vad (with eagerness)
    turn_type: str = "server_vad"
    eagerness: str = "auto"
    mode: TextMode = "none"
    instruction: str | None = None
    #: re-speak each sentence once its words are stable, while the person is still talking
    live: bool = False

    def describe(self, voice_id: str) -> dict[str, Any]:
        """The GA session object (`session.created` / `session.updated`)."""
        turn: dict[str, Any] | None = None
        vad = self.turn_detection
        if vad is not None:
            common = {
                "type": self.turn_type,
                "create_response": vad.create_response,
                "interrupt_response": vad.interrupt_response,
            }
            if self.turn_type == "semantic_vad":
                turn = {**common, "eagerness": self.eagerness}
            else:
                turn = {
                    **common,
                    "threshold": vad.threshold,
                    "prefix_padding_ms": vad.prefix_padding_ms,
                    "silence_duration_ms": vad.silence_duration_ms,
                    "idle_timeout_ms": vad.idle_timeout_ms,
                }
        audio_input = {
            "format": self.input_format.describe(),
            "transcription": {
                "model": self.transcription_model,
                "language": self.language,
                "prompt": self.prompt,
            },
            "turn_detection": turn,
            "noise_reduction": None,
        }
        revoice = {"mode": self.mode, "instruction": self.instruction, "live": self.live}
        if self.kind == "transcription":
            return {
                "type": "transcription",
                "object": "realtime.transcription_session",
                "id": self.id,
                "audio": {"input": audio_input},
                "include": [],
                "revoice": revoice,
            }
        return {
            "type": "realtime",
            "object": "realtime.session",
            "id": self.id,
            "model": self.model,
            "output_modalities": list(self.output_modalities),
            "instructions": self.instructions,
            "audio": {
                "input": audio_input,
                "output": {
                    "format": self.output_format.describe(),
                    "voice": voice_id,
                    "speed": self.speed if self.speed is not None else 1.0,
                },
            },
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": "inf",
            "tracing": None,
            "truncation": "auto",
            "prompt": None,
            "include": [],
            "revoice": revoice,
        }


def _object(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidOption(f"{param} must be an object", param)
    return value


def _number(value: Any, param: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidOption(f"{param} must be a number", param)
    if not low <= value <= high:
        raise InvalidOption(f"{param} must be between {low:g} and {high:g}", param)
    return float(value)


def _optional_text(value: Any, param: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidOption(f"{param} must be a string", param)
    return value.strip() or None


def parse_turn_detection(value: Any, param: str, current: SessionConfig) -> dict[str, Any]:
    """The session fields a `turn_detection` value sets."""
    if value is None:
        return {"turn_detection": None}
    spec = _object(value, param)
    kind = spec.get("type", "server_vad")
    if kind not in ("server_vad", "semantic_vad"):
        raise InvalidOption(f"{param}.type must be 'server_vad' or 'semantic_vad'", f"{param}.type")
    base = current.turn_detection or ServerVad()
    flags: dict[str, Any] = {}
    for name in ("create_response", "interrupt_response"):
        if spec.get(name) is not None:
            if not isinstance(spec[name], bool):
                raise InvalidOption(f"{param}.{name} must be true or false", f"{param}.{name}")
            flags[name] = spec[name]
    if kind == "semantic_vad":
        eagerness = spec.get("eagerness") or "auto"
        if eagerness not in EAGERNESS:
            choices = ", ".join(EAGERNESS)
            raise InvalidOption(f"{param}.eagerness must be one of: {choices}", param)
        cutoff, longest = EAGERNESS[eagerness]
        vad = replace(ServerVad(), silence_duration_ms=longest, end_of_turn=cutoff, **flags)
        return {"turn_detection": vad, "turn_type": kind, "eagerness": eagerness}
    values: dict[str, Any] = dict(flags)
    if spec.get("threshold") is not None:
        values["threshold"] = _number(spec["threshold"], f"{param}.threshold", 0.0, 1.0)
    for name, high in (("prefix_padding_ms", 5000), ("silence_duration_ms", 10000)):
        if spec.get(name) is not None:
            values[name] = int(_number(spec[name], f"{param}.{name}", 0, high))
    if "idle_timeout_ms" in spec:
        idle = spec["idle_timeout_ms"]
        values["idle_timeout_ms"] = (
            None if idle is None else int(_number(idle, f"{param}.idle_timeout_ms", 1000, 3.6e6))
        )
    if current.turn_type != "server_vad":
        base = ServerVad()
    return {"turn_detection": replace(base, **values), "turn_type": kind}


def _transcription(value: Any, param: str) -> dict[str, Any]:
    if value is None:
        return {}
    spec = _object(value, param)
    out: dict[str, Any] = {}
    if "model" in spec:
        model = _optional_text(spec["model"], f"{param}.model")
        out["transcription_model"] = model or "whisper-1"
    if "language" in spec:
        out["language"] = _optional_text(spec["language"], f"{param}.language")
    if "prompt" in spec:
        out["prompt"] = _optional_text(spec["prompt"], f"{param}.prompt")
    return out


def _input(spec: dict[str, Any], param: str, current: SessionConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.get("format") is not None:
        out["input_format"] = parse_format(spec["format"], f"{param}.format")
    out.update(_transcription(spec.get("transcription"), f"{param}.transcription"))
    if "turn_detection" in spec:
        out.update(parse_turn_detection(spec["turn_detection"], f"{param}.turn_detection", current))
    return out


def _voice(value: Any, param: str) -> str | None:
    if isinstance(value, dict):  # GA custom voice: {"id": ...}
        value = value.get("id")
    return _optional_text(value, param)


def _output(spec: dict[str, Any], param: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.get("format") is not None:
        out["output_format"] = parse_format(spec["format"], f"{param}.format")
    if "voice" in spec:
        out["voice"] = _voice(spec["voice"], f"{param}.voice")
    if spec.get("speed") is not None:
        out["speed"] = _number(spec["speed"], f"{param}.speed", SPEED.low, SPEED.high)
    return out


def _modalities(value: Any, param: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(m not in ("text", "audio") for m in value):
        raise InvalidOption(f"{param} must be a list of 'audio' and/or 'text'", param)
    return ("audio",) if "audio" in value else ("text",)


def _revoice(value: Any) -> dict[str, Any]:
    spec = _object(value, "session.revoice")
    out: dict[str, Any] = {}
    if "mode" in spec:
        mode = spec["mode"] or "none"
        if mode not in TEXT_MODES:
            raise InvalidOption(
                f"session.revoice.mode must be one of: {', '.join(TEXT_MODES)}",
                "session.revoice.mode",
            )
        out["mode"] = mode
    if "instruction" in spec:
        out["instruction"] = _optional_text(spec["instruction"], "session.revoice.instruction")
    if "live" in spec:
        if not isinstance(spec["live"], bool):
            raise InvalidOption(
                "session.revoice.live must be true or false", "session.revoice.live"
            )
        out["live"] = spec["live"]
    return out


def apply_update(current: SessionConfig, update: Any) -> SessionConfig:
    """`current` changed by a `session.update`'s `session` object; InvalidOption names the
    field at fault, and leaves nothing half-applied."""
    spec = _object(update, "session")
    changes: dict[str, Any] = {}
    kind = spec.get("type")
    if kind is not None:
        if kind not in ("realtime", "transcription"):
            raise InvalidOption(
                "session.type must be 'realtime' or 'transcription'", "session.type"
            )
        changes["kind"] = kind
    if spec.get("model") is not None:
        changes["model"] = str(spec["model"])
    if "instructions" in spec:
        changes["instructions"] = _optional_text(spec["instructions"], "instructions") or ""
    for name in ("output_modalities", "modalities"):  # GA, beta
        if spec.get(name) is not None:
            changes["output_modalities"] = _modalities(spec[name], f"session.{name}")
    audio = spec.get("audio")
    if audio is not None:
        audio = _object(audio, "session.audio")
        if audio.get("input") is not None:
            changes.update(
                _input(
                    _object(audio["input"], "session.audio.input"), "session.audio.input", current
                )
            )
        if audio.get("output") is not None:
            changes.update(
                _output(_object(audio["output"], "session.audio.output"), "session.audio.output")
            )
    # the beta shape
    if spec.get("input_audio_format") is not None:
        changes["input_format"] = parse_format(spec["input_audio_format"], "input_audio_format")
    if spec.get("output_audio_format") is not None:
        changes["output_format"] = parse_format(spec["output_audio_format"], "output_audio_format")
    if "voice" in spec:
        changes["voice"] = _voice(spec["voice"], "session.voice")
    changes.update(
        _transcription(spec.get("input_audio_transcription"), "session.input_audio_transcription")
    )
    if "turn_detection" in spec:
        changes.update(
            parse_turn_detection(spec["turn_detection"], "session.turn_detection", current)
        )
    if spec.get("revoice") is not None:
        changes.update(_revoice(spec["revoice"]))
    return replace(current, **changes)
