"""A short bounded load test on loopback: several clients, no errors (the full 60 s soak is in
`make bench`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.load import soak
from revoice.config import Settings
from revoice.pipeline import Pipeline
from revoice.server import create_app
from tests.robustness.conftest import serve_in_thread


@pytest.fixture(scope="module")
def url(settings: Settings, pipeline: Pipeline) -> Iterator[str]:
    app = create_app(
        settings, Pipeline(settings, models=pipeline.models, catalogue=pipeline.catalogue)
    )
    with serve_in_thread(app) as base:
        yield base


def test_three_clients_for_fifteen_seconds_without_errors(url: str) -> None:
    latencies, errors = soak(url, seconds=15, clients=3, max_requests=60)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"soak: {len(latencies)} requests, {errors} errors, p95 {p95:.2f} s")
    assert errors == 0 and len(latencies) >= 3
