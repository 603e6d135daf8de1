"""Settings come from REVOICE_ environment variables (`__` for nested sections)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from revoice.config import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No REVOICE_ variable from the surrounding shell leaks into these tests."""
    for name in list(os.environ):
        if name.upper().startswith("REVOICE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file is read either


def test_defaults() -> None:
    settings = Settings()
    assert settings.home == Path.home() / ".cache" / "revoice"
    assert settings.voices == Path.home() / ".config" / "revoice" / "voices.toml"
    assert settings.default_voice == "english-male-1"
    assert settings.asr.engine == "faster-whisper"
    assert settings.asr.model == "base"
    assert settings.asr.device == "auto"
    assert settings.limits.max_text_chars == 4096
    assert settings.limits.max_audio_seconds == 600.0
    assert settings.limits.max_upload_bytes == 25 * 1024 * 1024
    assert settings.port == 7860


def test_env_vars_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REVOICE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REVOICE_VOICES", str(tmp_path / "v.toml"))
    monkeypatch.setenv("REVOICE_ASR__MODEL", "tiny.en")
    monkeypatch.setenv("REVOICE_ASR__DEVICE", "cpu")
    monkeypatch.setenv("REVOICE_ASR__BEAM_SIZE", "2")
    monkeypatch.setenv("REVOICE_LIMITS__MAX_TEXT_CHARS", "100")
    monkeypatch.setenv("REVOICE_LIMITS__MAX_AUDIO_SECONDS", "12.5")
    monkeypatch.setenv("REVOICE_TTS__SENTENCE_PAUSE", "0")
    monkeypatch.setenv("REVOICE_PORT", "8080")
    monkeypatch.setenv("REVOICE_DEFAULT_VOICE", "hindi-female-1")
    settings = Settings()
    assert settings.home == tmp_path / "home"
    assert isinstance(settings.home, Path)
    assert settings.voices == tmp_path / "v.toml"
    assert settings.asr.model == "tiny.en"
    assert settings.asr.device == "cpu"
    assert settings.asr.beam_size == 2
    assert settings.asr.engine == "faster-whisper"  # untouched siblings keep their defaults
    assert settings.limits.max_text_chars == 100
    assert settings.limits.max_audio_seconds == 12.5
    assert settings.limits.max_upload_bytes == 25 * 1024 * 1024
    assert settings.tts.sentence_pause == 0.0
    assert settings.port == 8080
    assert settings.default_voice == "hindi-female-1"


def test_env_var_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("revoice_asr__model", "tiny.en")
    assert Settings().asr.model == "tiny.en"


def test_explicit_arguments_win_over_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REVOICE_HOME", str(tmp_path / "from-env"))
    assert Settings(home=tmp_path / "given").home == tmp_path / "given"


def test_unrelated_env_vars_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVOICE_NO_SUCH_SETTING", "1")
    monkeypatch.setenv("HOME_PORT", "nonsense")
    assert Settings().port == 7860


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("REVOICE_LIMITS__MAX_TEXT_CHARS", "0", "limits.max_text_chars"),
        ("REVOICE_LIMITS__MAX_TEXT_CHARS", "lots", "limits.max_text_chars"),
        ("REVOICE_LIMITS__MAX_AUDIO_SECONDS", "-1", "limits.max_audio_seconds"),
        ("REVOICE_LIMITS__MAX_UPLOAD_BYTES", "0", "limits.max_upload_bytes"),
        ("REVOICE_ASR__DEVICE", "tpu", "asr.device"),
        ("REVOICE_ASR__BEAM_SIZE", "0", "asr.beam_size"),
        ("REVOICE_ASR__BATCH_SIZE", "65", "asr.batch_size"),
        ("REVOICE_ASR__CPU_THREADS", "-2", "asr.cpu_threads"),
        ("REVOICE_ASR__ALLOW_DOWNLOAD", "maybe", "asr.allow_download"),
        ("REVOICE_TTS__DEVICE", "npu", "tts.device"),
        ("REVOICE_TTS__SENTENCE_PAUSE", "3", "tts.sentence_pause"),
        ("REVOICE_PORT", "70000", "port"),
        ("REVOICE_PORT", "abc", "port"),
        ("REVOICE_CONCURRENCY", "0", "concurrency"),
    ],
)
def test_invalid_values_raise_validation_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    locations = {".".join(str(p) for p in err["loc"]) for err in info.value.errors()}
    assert field in locations


def test_boolean_env_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVOICE_ASR__ALLOW_DOWNLOAD", "true")
    assert Settings().asr.allow_download is True
    monkeypatch.setenv("REVOICE_ASR__ALLOW_DOWNLOAD", "0")
    assert Settings().asr.allow_download is False
