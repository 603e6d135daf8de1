"""A real `revoice serve` subprocess for the page tests, one per test module.

The server listens on a free loopback port, keeps its models in the session's REVOICE_HOME
and its Gradio files in a temp dir. Its output goes to a log file whose tail is attached to
the report of any test that fails while using it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.helpers import Server, running_server


@pytest.fixture(scope="module")
def server(revoice_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`revoice serve --host 127.0.0.1 --port <free>`, healthy; stopped after the module."""
    with running_server(revoice_home, tmp_path_factory.mktemp("revoice-serve")) as srv:
        yield srv
