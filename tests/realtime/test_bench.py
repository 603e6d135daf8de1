"""`python -m bench.realtime` runs on one clip against a real server, so it cannot rot."""

from __future__ import annotations

from bench import realtime
from tests.api.helpers import Server
from tests.helpers import Clip
from tests.realtime.helpers import KEY


def test_end_of_speech_to_first_audio_is_measured(
    revoice_server: Server, clips: list[Clip]
) -> None:
    clip = next(c for c in clips if c.name == "forever.wav")
    table = realtime.measure(revoice_server.base_url, KEY, [clip])
    print(table.markdown())
    row = table.rows[0]
    assert row[0] == "forever.wav"
    live, whole = float(row[2]), float(row[3])
    # from the end of speech: the realtime path first waits out the turn's silence
    assert 0 < live < 30 and 0 < whole < 30
    assert [r[0] for r in table.rows[1:]] == ["p50", "p95"]
