"""The thread budget: each engine job's share of the cores (revoice.threads)."""

from __future__ import annotations

import pytest

from revoice import threads
from revoice.tts.base import session_options


@pytest.mark.parametrize(
    ("cores", "setting", "jobs", "expected"),
    [
        (2, 0, 2, 1),  # this machine, the default concurrency: a core each
        (16, 0, 2, 8),
        (16, 0, 3, 5),
        (2, 0, 4, 1),  # more jobs than cores: never below one thread
        (2, 0, 1, 2),
        (16, 3, 2, 3),  # a setting wins
    ],
)
def test_a_job_gets_its_share_of_the_cores(
    monkeypatch: pytest.MonkeyPatch, cores: int, setting: int, jobs: int, expected: int
) -> None:
    monkeypatch.setattr(threads, "cores", lambda: cores)
    assert threads.per_job(setting, jobs) == expected


def test_cores_are_the_ones_this_process_may_use() -> None:
    import os

    assert 1 <= threads.cores() <= (os.cpu_count() or 1)


def test_voice_sessions_keep_every_core_unless_told() -> None:
    """ONNX voices are not split by concurrency: one Kokoro sentence took 2.64 s on one thread
    against 1.75 s on two, and four at once took as long either way (revoice.threads)."""
    assert session_options(0).intra_op_num_threads == 0  # type: ignore[attr-defined]
    assert session_options(3).intra_op_num_threads == 3  # type: ignore[attr-defined]
