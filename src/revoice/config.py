"""Application settings, read once from the environment (prefix `REVOICE_`, `__` for nesting)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".cache" / "revoice"


def _default_voices() -> Path:
    return Path.home() / ".config" / "revoice" / "voices.toml"


class ASRSettings(BaseModel):
    """How the speech-to-text engine is loaded."""

    engine: str = Field("faster-whisper", description="ASR engine name from the registry")
    model: str = Field(
        "base",
        description="'base' (shipped, multilingual), 'tiny.en' (shipped), a CTranslate2 model "
        "directory, or a faster-whisper model name (downloaded only if allow_download)",
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="where the model runs")
    compute_type: str = Field(
        "default",
        description="CTranslate2 compute type; 'default' = int8 on CPU, float16 on CUDA",
    )
    cpu_threads: int = Field(0, ge=0, description="0 lets CTranslate2 use every core")
    beam_size: int = Field(5, ge=1, le=10, description="beam search width")
    batch_size: int = Field(8, ge=1, le=64, description="segments decoded together (batched)")
    allow_download: bool = Field(
        False, description="let faster-whisper fetch a named model from the Hugging Face hub"
    )


class TTSSettings(BaseModel):
    """How the text-to-speech engines run."""

    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="ONNX Runtime provider")
    threads: int = Field(0, ge=0, description="ONNX Runtime intra-op threads; 0 = every core")
    sentence_pause: float = Field(0.25, ge=0.0, le=2.0, description="seconds between sentences")


class Limits(BaseModel):
    """Bounds on what one request may ask for."""

    max_upload_bytes: int = Field(25 * 1024 * 1024, ge=1, description="largest upload accepted")
    max_audio_seconds: float = Field(600.0, gt=0, description="longest recording accepted")
    max_text_chars: int = Field(4096, ge=1, description="longest text to speak per request")


class Settings(BaseSettings):
    """Every setting of revoice, with its environment variable (REVOICE_<NAME>)."""

    model_config = SettingsConfigDict(
        env_prefix="REVOICE_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(
        default_factory=_default_home,
        description="cache directory for assembled models (REVOICE_HOME)",
    )
    voices: Path = Field(
        default_factory=_default_voices,
        description="the user's voices TOML file (REVOICE_VOICES)",
    )
    default_voice: str = Field("english-male-1", description="voice used when none is given")
    host: str = Field("127.0.0.1", description="address `revoice serve` listens on")
    port: int = Field(7860, ge=1, le=65535, description="port `revoice serve` listens on")
    concurrency: int = Field(
        2, ge=1, le=64, description="engine jobs run at once per engine (web page and API)"
    )
    api_key: SecretStr | None = Field(
        None, description="when set, /v1 requires `Authorization: Bearer <key>` (REVOICE_API_KEY)"
    )
    asr: ASRSettings = Field(default_factory=ASRSettings)
    tts: TTSSettings = Field(default_factory=TTSSettings)
    limits: Limits = Field(default_factory=Limits)
