"""Hostile and odd inputs, made in memory: each is (name, file name, bytes, expected status).

Expected statuses: 415 for anything that is not decodable audio, 413 for inputs over a limit,
200 for odd-but-valid audio (which must then be handled correctly, not rejected).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import av
import numpy as np

from revoice import codecs
from revoice.audio import Audio
from tests.helpers import HUMAN

RATE = 16000


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    data: bytes
    status: int


def _encode(
    samples: np.ndarray, rate: int, container: str, codec: str, channels: int = 1, fmt: str = "s16"
) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono" if channels == 1 else ("stereo" if channels == 2 else "5.1")
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        if fmt == "s16":
            pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
            pcm = np.repeat(pcm, channels, axis=0).T.reshape(1, -1) if channels > 1 else pcm
        else:
            pcm = np.repeat(samples.astype(np.float32).reshape(1, -1), channels, axis=0)
        frame = av.AudioFrame.from_ndarray(
            pcm, format=fmt if channels == 1 or fmt == "s16" else "fltp", layout=stream.layout.name
        )
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


@cache
def speech() -> Audio:
    return codecs.decode(HUMAN / "librivox-0880.wav")  # "he was not an ill disposed young man"


def _wav(
    rate: int = RATE,
    channels: int = 1,
    fmt_code: int = 1,
    bits: int = 16,
    data: bytes = b"",
    declared: int | None = None,
) -> bytes:
    size = len(data) if declared is None else declared
    block = channels * bits // 8
    return (
        b"RIFF"
        + struct.pack("<I", (36 + size) & 0xFFFFFFFF)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, fmt_code, channels, rate, rate * block, block, bits)
        + b"data"
        + struct.pack("<I", size & 0xFFFFFFFF)
        + data
    )


def _hours_of_silence(seconds: int) -> bytes:
    """A small FLAC file that decodes to `seconds` of 8 kHz silence (about 40x compression)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="flac") as out:
        stream = out.add_stream("flac", rate=8000)
        stream.layout = "mono"
        minute = np.zeros((1, 8000 * 60), np.int16)
        for i in range(seconds // 60):
            frame = av.AudioFrame.from_ndarray(minute, format="s16", layout="mono")
            frame.sample_rate, frame.pts = 8000, i * 8000 * 60
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def valid_files() -> dict[str, bytes]:
    """The same speech in every promised input format."""
    s = speech()
    rs = s.samples
    return {
        "wav": codecs.encode(s, "wav"),
        "flac": codecs.encode(s, "flac"),
        "mp3": codecs.encode(s, "mp3"),
        "ogg-opus": codecs.encode(s, "ogg"),
        "ogg-vorbis": _encode(
            s.resample(44100).samples, 44100, "ogg", "vorbis", channels=2, fmt="fltp"
        ),
        "webm-opus": _encode(s.resample(48000).samples, 48000, "webm", "libopus"),
        "m4a-aac": _encode(rs, RATE, "adts", "aac"),
    }


def cases() -> Iterator[Case]:
    rng = np.random.default_rng(7)
    files = valid_files()
    # -- not audio at all: 415
    yield Case("empty", "empty.wav", b"", 415)
    yield Case("random-1k", "noise.wav", rng.bytes(1024), 415)
    yield Case("random-200k", "noise.mp3", rng.bytes(200_000), 415)
    yield Case("text", "notes.wav", b"hello, this is not audio\n" * 40, 415)
    yield Case("html", "page.ogg", b"<!doctype html><html><body>hi</body></html>", 415)
    yield Case("json", "data.flac", b'{"audio": "nope"}', 415)
    yield Case("png", "image.wav", b"\x89PNG\r\n\x1a\n" + rng.bytes(500), 415)
    yield Case("zip", "archive.m4a", b"PK\x03\x04" + rng.bytes(500), 415)
    yield Case("elf", "program.webm", b"\x7fELF" + rng.bytes(500), 415)
    yield Case("id3-only", "tags.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10, 415)
    yield Case("riff-not-wave", "odd.wav", b"RIFF\x10\x00\x00\x00AVI LIST" + b"\x00" * 8, 415)
    yield Case("wav-0-channels", "zero-ch.wav", _wav(channels=0, data=b"\x00" * 100), 415)
    yield Case("wav-rate-0", "zero-rate.wav", _wav(rate=0, data=b"\x00" * 100), 415)
    yield Case("wav-bad-format-code", "fmt.wav", _wav(fmt_code=0x1234, data=b"\x00" * 100), 415)
    for name, data in files.items():  # headers cut short: 415
        yield Case(f"{name}-truncated-header", f"cut.{name.split('-')[0]}", data[:16], 415)
    # -- over a limit: 413
    yield Case("hour-of-silence-flac", "long.flac", _hours_of_silence(3600), 413)
    # -- odd but valid audio: 200
    for name, data in files.items():
        yield Case(f"valid-{name}", f"speech.{name.split('-')[0]}", data, 200)
    yield Case("wrong-extension", "speech.mp3", files["wav"], 200)
    yield Case("no-extension", "speech", files["flac"], 200)
    yield Case("unicode-filename", "रिकॉर्डिंग 🎙.wav", files["wav"], 200)
    yield Case(
        "wav-huge-declared-length",
        "huge.wav",
        _wav(data=speech().to_int16().tobytes(), declared=0x7FFFFFF0),
        200,
    )
    yield Case("wav-one-sample", "one.wav", _wav(data=b"\x01\x00"), 200)
    # FFmpeg reads a 3-bit PCM header as 8-bit: silence, so an empty transcript
    yield Case("wav-bits-3", "bits.wav", _wav(bits=3, data=b"\x00" * 100), 200)
    yield Case("wav-no-samples", "none.wav", _wav(data=b""), 200)
    nan = np.full(RATE, np.nan, np.float32)
    nan[::2] = np.inf
    yield Case("float-wav-nan-inf", "nan.wav", _wav(fmt_code=3, bits=32, data=nan.tobytes()), 200)
    s = speech()
    yield Case("8khz", "8k.wav", codecs.encode(s.resample(8000), "wav"), 200)
    yield Case("192khz", "192k.flac", codecs.encode(s.resample(192000), "flac"), 200)
    yield Case(
        "6-channel", "surround.wav", _encode(s.samples, RATE, "wav", "pcm_s16le", channels=6), 200
    )
    yield Case("wav-truncated-mid-data", "half.wav", files["wav"][: len(files["wav"]) // 2], 200)
