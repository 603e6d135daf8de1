"""Session-wide fixtures: one settings object with its own REVOICE_HOME, one shared pipeline."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from revoice.config import Settings
from revoice.pipeline import Pipeline
from tests.helpers import Clip, human_clips


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No REVOICE_* setting of the shell that runs the suite reaches a test, and nothing a
    test does lands in the real home directory (HOME, the XDG cache): the suite runs the same
    on every machine. Tests that want a setting set it themselves."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("REVOICE_")]:
            patch.delenv(name)
        home = tmp_path_factory.mktemp("home")
        patch.setenv("HOME", str(home))
        patch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        yield


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach a `revoice serve` process's output to the report of a failed test that used it
    (fixtures `revoice_server` and `server`: API, page and Ray tests)."""
    from tests.api.helpers import Server

    report = yield
    if report.failed:
        for name in ("revoice_server", "server"):
            server = getattr(item, "funcargs", {}).get(name)
            if isinstance(server, Server):
                report.sections.append(("revoice serve output", server.output()))
                break
    return report
