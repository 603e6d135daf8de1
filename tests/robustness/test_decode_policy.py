"""One decoding policy for every door: an upload is decoded from its own bytes only.

Reproductions from a hostile black-box run: an `ffconcat` list or an HLS playlist uploaded as
"audio" made FFmpeg read a file from the server's working directory, an SDP description made
it bind UDP ports, a 655 kHz FLAC of silence cost gigabytes, float WAVs with NaN samples and
9- or 32-channel WAVs with an unusual channel mask were mangled or refused.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from revoice import codecs
from revoice.errors import AudioDecodeError
from tests.helpers import HUMAN, wer

CANARY = HUMAN / "librivox-0880.wav"  # real speech: if it were read, it would be transcribed
REFERENCE = next(
    line.split("\t")[1]
    for line in (HUMAN / "transcripts.tsv").read_text().splitlines()
    if line.startswith(CANARY.name)
)

#: uploads whose demuxer would read something other than the bytes given
HOSTILE = {
    "ffconcat": b"ffconcat version 1.0\nfile secret.wav\n",
    "hls": b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nsecret.wav\n#EXT-X-ENDLIST\n",
    "hls-file-url": b"#EXTM3U\n#EXTINF:10.0,\nfile:secret.wav\n#EXT-X-ENDLIST\n",
    "sdp": b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 5004 RTP/AVP 0\n",
    "tty": b"\x1b[31mplain text that the tty demuxer would render as video\n" * 20,
}


@pytest.fixture
def canary_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding `secret.wav`, a recording nobody uploaded."""
    shutil.copy(CANARY, tmp_path / "secret.wav")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_concat_would_read_the_canary_without_the_policy(canary_dir: Path) -> None:
    """The threat is real: FFmpeg's own concat demuxer reads the file the list names."""
    import io

    import av

    with av.open(io.BytesIO(HOSTILE["ffconcat"])) as container:
        assert container.format.name == "concat"
        assert container.streams.audio  # it opened secret.wav


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_containers_are_refused_from_bytes_and_paths(canary_dir: Path, kind: str) -> None:
    upload = canary_dir / f"memo-{kind}.wav"
    upload.write_bytes(HOSTILE[kind])
    for source in (HOSTILE[kind], upload):
        started = time.monotonic()
        with pytest.raises(AudioDecodeError, match="not a readable audio file"):
            codecs.decode(source)
        assert time.monotonic() - started < 2.0


def _udp_ports() -> set[int]:
    ports = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        if os.path.exists(table):
            with open(table) as handle:
                for line in handle.readlines()[1:]:
                    ports.add(int(line.split()[1].rsplit(":", 1)[1], 16))
    return ports


def test_an_sdp_upload_opens_no_socket() -> None:
    """Watch the UDP table while the SDP upload is decoded: port 5004 never appears."""
    assert 5004 not in _udp_ports()
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.update(_udp_ports())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with pytest.raises(AudioDecodeError):
            codecs.decode(HOSTILE["sdp"])
        time.sleep(0.2)
    finally:
        done.set()
        watcher.join()
    assert 5004 not in seen


def test_api_and_cli_refuse_a_concat_list(
    api: TestClient, canary_dir: Path, tmp_path: Path
) -> None:
    for path in ("/v1/audio/transcriptions", "/v1/audio/voice-to-voice"):
        answer = api.post(path, files={"file": ("memo.wav", HOSTILE["ffconcat"], "audio/wav")})
        assert answer.status_code == 415, answer.text
        assert "not a readable audio file" in answer.json()["error"]["message"]
    # the real recording still transcribes through the same door
    good = api.post(
        "/v1/audio/transcriptions", files={"file": ("ok.wav", CANARY.read_bytes(), "audio/wav")}
    )
    assert good.status_code == 200
    assert wer([REFERENCE], [good.json()["text"]]) <= 0.15
    memo = canary_dir / "memo.wav"
    memo.write_bytes(HOSTILE["ffconcat"])
    script = Path(sys.executable).with_name("revoice")
    done = subprocess.run(
        [str(script), "transcribe", str(memo)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "not a readable audio file" in done.stderr
    assert "Traceback" not in done.stderr


def _flac(path: Path, rate: int, seconds: float) -> Path:
    import imageio_ffmpeg

    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", f"anullsrc=r={rate}:cl=mono", "-t", str(seconds), "-c:a", "flac", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


_PEAK = """
import resource, sys
from revoice import codecs
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
audio = codecs.decode(sys.argv[1], max_seconds=600)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(audio.sample_rate, round(audio.duration), (after - before) // 1024)
"""


def test_a_655_khz_flac_costs_what_48_khz_does(tmp_path: Path) -> None:
    """300 s at 655,350 Hz: 786 MB of float32 at its own rate (x3 while decoding, as before);
    resampled while decoding to 48 kHz, the decode grows the process by < 200 MiB."""
    flac = _flac(tmp_path / "silence.flac", 655_350, 300)
    assert flac.stat().st_size < 3 * 1024 * 1024
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(flac)], capture_output=True, text=True, check=True
    )
    rate, seconds, grew_mib = (int(x) for x in done.stdout.split())
    assert (rate, seconds) == (48_000, 300)
    assert grew_mib < 200, f"decoding grew the process by {grew_mib} MiB"


def _extensible_wav(channels: int, mask: int, rate: int = 16000) -> bytes:
    """A WAVE_FORMAT_EXTENSIBLE file whose channel mask names no known layout."""
    tone = (np.sin(2 * np.pi * 440 * np.arange(rate) / rate) * 0.5 * 32767).astype("<i2")
    data = np.repeat(tone, channels).tobytes()
    pcm_guid = bytes.fromhex("0100000000001000800000aa00389b71")
    fmt = struct.pack(
        "<HHIIHHHHI", 0xFFFE, channels, rate, rate * channels * 2, channels * 2, 16, 22, 16, mask
    )
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt) + 16) + fmt + pcm_guid
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("channels", [9, 18, 32])
@pytest.mark.parametrize("mask", [0, 0xFFFFFFFF])
def test_unusual_channel_counts_are_mixed_down(channels: int, mask: int) -> None:
    audio = codecs.decode(_extensible_wav(channels, mask))
    assert audio.sample_rate == 16000
    assert len(audio) == 16000
    assert audio.rms() == pytest.approx(0.5 / np.sqrt(2), rel=0.02)  # the tone, not silence


def test_non_finite_float_samples_become_silence_not_clicks() -> None:
    import io

    import av

    rate = 16000
    tone = (np.sin(2 * np.pi * 300 * np.arange(rate) / rate) * 0.5).astype(np.float32)
    tone[::300] = np.nan
    tone[150::600] = np.inf
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="wav") as out:
        stream = out.add_stream("pcm_f32le", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in (*stream.encode(frame), *stream.encode(None)):
            out.mux(packet)
    audio = codecs.decode(buffer.getvalue())
    assert np.abs(audio.samples).max() <= 0.5 + 1e-3  # no full-scale -1.0 clicks
