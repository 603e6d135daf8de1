"""Fixtures of the API tests: the app in process, the SDK on it, a real `revoice serve`.

The in-process app shares the session pipeline, so models load once. The server process is
started once per module that asks for it, on a free loopback port, with the session's
REVOICE_HOME (assembled models are reused) and no voices file; its output goes to a log whose
tail is attached to the report of a failing test that used it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from revoice.config import Settings
from revoice.pipeline import Pipeline
from revoice.server import create_app
from revoice.voices import OPENAI_VOICES
from tests.api.helpers import Server, running_server, sdk_for


@pytest.fixture(scope="session")
def api_app(settings: Settings, pipeline: Pipeline) -> FastAPI:
    """The app with default settings over the shared pipeline."""
    return create_app(settings, pipeline)


@pytest.fixture(scope="module")
def http(api_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(api_app, base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture(scope="module")
def sdk(http: TestClient) -> openai.OpenAI:
    """The official openai SDK, driving the app in process."""
    return sdk_for(http)


@pytest.fixture(scope="module")
def voice_rates(sdk: openai.OpenAI) -> dict[str, int]:
    """Sample rate of every voice id and OpenAI voice name, as /v1/audio/voices tells it."""
    listing = sdk.get("/audio/voices", cast_to=object)
    rates = {v["id"]: v["sample_rate"] for v in listing["data"]}
    rates.update({alias: rates[target] for alias, target in OPENAI_VOICES.items()})
    return rates


@pytest.fixture(scope="module")
def revoice_server(
    revoice_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`revoice serve --host 127.0.0.1 --port <free>`, healthy; stopped after the module."""
    with running_server(revoice_home, tmp_path_factory.mktemp("revoice-api-serve")) as server:
        yield server
