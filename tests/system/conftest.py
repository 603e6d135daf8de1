"""System voices (festival, flite, espeak-ng): present in CI, optional elsewhere.

CI (`CI=true`) installs the Debian packages with `make system-deps`, so a missing program or
voice fails loudly there; on other machines its tests skip and say what to install.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from revoice.tts import system
from revoice.tts.system import SystemVoice

APT = (
    "sudo apt-get install festival festvox-hi-nsk festvox-us-slt-hts festvox-kallpc16k "
    "flite espeak-ng"
)


def require(spec: SystemVoice) -> None:
    """Skip (fail in CI) unless the voice's program and the voice itself are installed."""
    found = system.discover()
    if found.has(spec):
        return
    what = spec.program if found.path(spec.program) is None else f"{spec.program} voice {spec.name}"
    message = f"{what} is not installed ({APT})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI installs the system voices (make system-deps), but {message}")
    pytest.skip(message)


def spec(voice_id: str) -> SystemVoice:
    return next(s for s in system.SYSTEM_VOICES if s.id == voice_id)


@pytest.fixture()
def nothing_installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Discovery as on a machine without the packages: no program is on PATH."""
    system.discover.cache_clear()
    monkeypatch.setattr(system.shutil, "which", lambda name, *a, **k: None)
    yield
    monkeypatch.undo()
    system.discover.cache_clear()
