"""Request and response bodies of the HTTP API (OpenAI's audio API shapes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from revoice import codecs
from revoice.types import FORMANT, PITCH, SPEED, VOLUME

#: every format revoice writes (the one table, in `codecs`): pcm is OpenAI's, 24 kHz s16le
#: mono; pcm_native is the voice's own rate (ours)
if TYPE_CHECKING:
    AudioFormat = str
else:
    AudioFormat = Literal[tuple(codecs.FORMATS)]


class SpeechRequest(BaseModel):
    """POST /v1/audio/speech."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field("tts-1", description="tts-1, tts-1-hd, piper, kokoro, ...")
    input: str = Field(..., description="the text to speak")
    voice: str | None = Field(None, description="voice id or OpenAI voice name")
    response_format: AudioFormat = "mp3"
    speed: float = Field(1.0, ge=SPEED.low, le=SPEED.high)
    stream_format: Literal["audio", "sse"] = Field(
        "audio",
        description="audio: the speech itself; sse: `speech.audio.delta` events carrying it in "
        "base64 (the encoded response_format, in order), then `speech.audio.done`",
    )
    instructions: str | None = Field(None, description="accepted for compatibility; unused")


class VoiceOut(BaseModel):
    id: str
    name: str
    object: Literal["voice"] = "voice"
    engine: str
    languages: list[str]
    gender: str
    sample_rate: int
    description: str
    source: str
    parent: str | None = None
    pitch: float = 0.0
    formant: float = 1.0
    volume: float = 0.0
    speed: float = 1.0


class Named(BaseModel):
    """A voice or model as Open WebUI's lists read it."""

    id: str
    name: str


class VoiceList(BaseModel):
    """OpenAI's list shape (`object`, `data`), and Open WebUI's (`voices`: id and name)."""

    object: Literal["list"] = "list"
    data: list[VoiceOut]
    voices: list[Named] = Field(default_factory=list)


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "revoice"
    kind: str
    description: str = ""


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class SpeechModelList(ModelList):
    """GET /v1/audio/models: the speech models, also as Open WebUI reads them (`models`)."""

    models: list[Named] = Field(default_factory=list)


class VoiceToVoiceJSON(BaseModel):
    transcript: str
    text: str = Field(..., description="the words spoken: the transcript, or the text step's")
    language: str
    voice: str
    format: str
    sample_rate: int
    audio: str = Field(..., description="base64 of the encoded audio")


class VoiceCreate(BaseModel):
    """POST /v1/audio/voices: a custom voice made from a catalogue voice."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., description="new voice id: lower-case letters, digits, '.', '_', '-'")
    voice: str = Field(..., description="the catalogue voice to start from")
    pitch: float | None = Field(None, description=PITCH.help)
    formant: float | None = Field(None, description=f"vocal tract ratio {FORMANT.help}; < 1 deeper")
    volume: float | None = Field(None, description=VOLUME.help)
    speed: float | None = Field(None, description=SPEED.help)
    blend: dict[str, float] | None = Field(None, description="Kokoro style weights")
    description: str | None = None
    gender: Literal["male", "female", "neutral"] | None = None
    language: str | None = None
    overwrite: bool = Field(False, description="replace your voice of that id (else 409)")


class LikenessOut(BaseModel):
    voice: str = Field(..., description="the nearest shipped voice")
    similarity: float
    user_f0: float
    voice_f0: float
    pitch: float = Field(..., description="semitones applied to match your pitch")
    scores: dict[str, float]
    poor_match: bool = Field(
        False, description="no shipped voice is close to yours (similarity under 0.4)"
    )
    saved: VoiceOut | None = None
