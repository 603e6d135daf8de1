"""An in-process API with small limits, sharing the session's pipeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from revoice.config import Limits, Settings
from revoice.pipeline import Pipeline
from revoice.server import create_app

LIMITS = Limits(max_upload_bytes=4 * 1024 * 1024, max_audio_seconds=120, max_text_chars=2000)


@pytest.fixture(scope="module")
def small_limits(settings: Settings) -> Settings:
    return settings.model_copy(update={"limits": LIMITS})


@pytest.fixture(scope="module")
def api(small_limits: Settings, pipeline: Pipeline) -> Iterator[TestClient]:
    app = create_app(
        small_limits, Pipeline(small_limits, models=pipeline.models, catalogue=pipeline.catalogue)
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
