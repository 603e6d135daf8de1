"""Session-wide fixtures: one settings object with its own REVOICE_HOME, one shared pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from revoice.config import Settings
from revoice.pipeline import Pipeline
from tests.helpers import Clip, human_clips


@pytest.fixture(scope="session")
def revoice_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("revoice-home")


@pytest.fixture(scope="session")
def settings(revoice_home: Path) -> Settings:
    return Settings(home=revoice_home, voices=revoice_home / "no-voices.toml")


@pytest.fixture(scope="session")
def pipeline(settings: Settings) -> Pipeline:
    return Pipeline(settings)


@pytest.fixture(scope="session")
def hindi_wav(pipeline: Pipeline) -> bytes:
    """A Hindi recording (synthetic: Kokoro), as wav bytes."""
    from revoice import codecs
    from revoice.audio import Audio
    from tests.api.helpers import HINDI_SENTENCE

    return codecs.encode(Audio.concat(pipeline.speak(HINDI_SENTENCE, "hindi-female-2")), "wav")


@pytest.fixture(scope="session")
def clips() -> list[Clip]:
    return human_clips()


@pytest.fixture()
def env_home(monkeypatch: pytest.MonkeyPatch, revoice_home: Path, tmp_path: Path) -> Iterator[Path]:
    """Point the REVOICE_ environment at test directories (for CLI runs in this process)."""
    monkeypatch.setenv("REVOICE_HOME", str(revoice_home))
    monkeypatch.setenv("REVOICE_VOICES", str(tmp_path / "voices.toml"))
    yield tmp_path
