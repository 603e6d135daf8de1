"""Fixtures of the client tests: one real `revoice serve` with its HTTP API and Wyoming door.

The clients (Home Assistant's Wyoming calls, Open WebUI's requests, Pipecat, LiveKit, the
OpenAI SDK) all talk to this one process, on free loopback ports; its voices file holds one
custom voice, so the catalogue the clients see has one. The test process loads no models:
audio is judged by the server's own speech recognition.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.helpers import Server, free_port, running_server

#: the custom voice in the server's voices file
CUSTOM_VOICE = "narrator-low"
VOICES_TOML = f"""
[voices.{CUSTOM_VOICE}]
voice = "english-female"
pitch = -2.0
description = "English female, two semitones lower"
"""
#: the server refuses longer recordings (so a test can pass the limit quickly)
MAX_AUDIO_SECONDS = 40


@pytest.fixture(scope="session")
def free_wyoming_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def wyoming_port(server: Server, free_wyoming_port: int) -> int:
    """The Wyoming port of the running server."""
    return free_wyoming_port


@pytest.fixture(scope="session")
def server(
    revoice_home: Path, tmp_path_factory: pytest.TempPathFactory, free_wyoming_port: int
) -> Iterator[Server]:
    """`revoice serve --wyoming tcp://127.0.0.1:<port>`, healthy; stopped after the session."""
    workdir = tmp_path_factory.mktemp("revoice-clients")
    voices = workdir / "voices.toml"
    voices.write_text(VOICES_TOML, encoding="utf-8")
    env = {
        "REVOICE_VOICES": str(voices),
        "REVOICE_LIMITS__MAX_AUDIO_SECONDS": str(MAX_AUDIO_SECONDS),
    }
    args = ["--wyoming", f"tcp://127.0.0.1:{free_wyoming_port}"]
    with running_server(revoice_home, workdir, args, extra_env=env) as running:
        yield running
