"""Fixtures of the realtime tests: one real `revoice serve` (tiny.en, Piper, an API key, a
custom voice, small limits) shared by every test here (named so that a failed test's report
shows its output), and a tiny.en pipeline in this process to hear what the server says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from revoice.config import Settings
from revoice.pipeline import Pipeline
from tests.api.helpers import Server, running_server
from tests.realtime.helpers import KEY

#: limits of the test server (the cap and the frame size are tested)
MAX_SESSIONS = 3
MAX_FRAME_BYTES = 256 * 1024
#: a custom voice: Piper's joe four semitones higher
CUSTOM_VOICE = "joe-high"
VOICES_TOML = f"""
[voices.{CUSTOM_VOICE}]
voice = "english-male-1"
pitch = 4
"""


@pytest.fixture(scope="package")
def revoice_server(
    revoice_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("revoice-realtime-serve")
    voices = workdir / "voices.toml"
    voices.write_text(VOICES_TOML, encoding="utf-8")
    env = {
        "REVOICE_ASR__MODEL": "tiny.en",
        "REVOICE_API_KEY": KEY,
        "REVOICE_VOICES": str(voices),
        "REVOICE_REALTIME__MAX_SESSIONS": str(MAX_SESSIONS),
        "REVOICE_REALTIME__MAX_FRAME_BYTES": str(MAX_FRAME_BYTES),
    }
    with running_server(revoice_home, workdir, extra_env=env) as server:
        yield server


@pytest.fixture(scope="session")
def ears(revoice_home: Path) -> Pipeline:
    """tiny.en in this process, to hear the server's speech (and the batch path's text)."""
    return Pipeline(
        Settings(
            home=revoice_home, voices=revoice_home / "no-voices.toml", asr={"model": "tiny.en"}
        )
    )
