"""Decoding and encoding with PyAV (FFmpeg): the only place that touches audio file formats."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import av.error
import numpy as np

from revoice.audio import Audio
from revoice.errors import AudioDecodeError, InputTooLarge, InvalidOption

Source = str | Path | bytes | BinaryIO

#: errors PyAV raises for input that is not (valid) audio
_DECODE_ERRORS = (av.error.FFmpegError, ValueError, IndexError, EOFError, struct.error)


def decode(source: Source, *, max_seconds: float | None = None) -> Audio:
    """Decode any FFmpeg-readable audio (wav, flac, mp3, ogg, opus, webm, m4a, ...) to mono float32.

    Multichannel audio is downmixed by FFmpeg; the native sample rate is kept. Decoding stops
    with `InputTooLarge` as soon as `max_seconds` is passed, so a tiny file that expands to
    hours of audio never fills memory.
    """
    if isinstance(source, bytes):
        if not source:
            raise AudioDecodeError("the audio file is empty (0 bytes)")
        source = io.BytesIO(source)
    elif isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise AudioDecodeError(f"no such audio file: {path}")
        if path.stat().st_size == 0:
            raise AudioDecodeError(f"the audio file is empty (0 bytes): {path}")
        source = str(path)
    try:
        container = av.open(source, mode="r", metadata_errors="ignore")
    except _DECODE_ERRORS as exc:
        raise AudioDecodeError(f"not a readable audio file ({_reason(exc)})") from None
    try:
        return _decode_container(container, max_seconds)
    finally:
        container.close()


def _decode_container(container: av.container.InputContainer, max_seconds: float | None) -> Audio:
    if not container.streams.audio:
        raise AudioDecodeError("the file has no audio stream")
    stream = container.streams.audio[0]
    chunks: list[np.ndarray] = []
    total = 0
    rate = 0
    resampler: av.AudioResampler | None = None
    limit = None
    try:
        for frame in container.decode(stream):
            if resampler is None:
                rate = frame.sample_rate or stream.rate
                if not rate:
                    raise AudioDecodeError("the audio stream declares no sample rate")
                # s32, not flt: FFmpeg then normalises its downmix matrix, so stereo and 5.1
                # input is mixed to mono without gain (float output would sum and clip).
                resampler = av.AudioResampler(format="s32", layout="mono", rate=rate)
                limit = None if max_seconds is None else int(max_seconds * rate)
            for out in resampler.resample(frame):
                chunk = _floats(out)
                chunks.append(chunk)
                total += len(chunk)
            if limit is not None and total > limit:
                raise InputTooLarge(
                    f"the audio is longer than the limit of {max_seconds:g} s", "file"
                )
        if resampler is not None:
            for out in resampler.resample(None):
                chunks.append(_floats(out))
    except _DECODE_ERRORS as exc:
        # A truncated or partly corrupt file: keep what decoded, fail only if nothing did.
        if not chunks:
            raise AudioDecodeError(f"the audio could not be decoded ({_reason(exc)})") from None
    if resampler is None:
        if stream.rate:
            return Audio(np.zeros(0, dtype=np.float32), stream.rate)
        raise AudioDecodeError("the audio stream holds no samples")
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    if limit is not None and len(samples) > limit:
        raise InputTooLarge(f"the audio is longer than the limit of {max_seconds:g} s", "file")
    return Audio(np.clip(samples, -1.0, 1.0), rate)


def _floats(frame: av.AudioFrame) -> np.ndarray:
    """A mono s32 frame as float32 samples in [-1, 1)."""
    return frame.to_ndarray().reshape(-1).astype(np.float32) * np.float32(1 / 2**31)


def decode_pcm(data: bytes, sample_rate: int) -> Audio:
    """Headerless signed 16-bit little-endian mono PCM."""
    usable = len(data) - len(data) % 2
    pcm = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
    return Audio(pcm, sample_rate)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    # FFmpeg messages carry an errno and the (possibly in-memory) file name: keep the words.
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        text = exc.strerror
    return text.splitlines()[0][:200]


@dataclass(frozen=True)
class Format:
    """An output format: FFmpeg container and codec, and rates the codec accepts."""

    name: str
    container: str | None
    codec: str | None
    mime: str
    suffix: str
    rates: tuple[int, ...] = ()

    def rate_for(self, sample_rate: int) -> int:
        if not self.rates or sample_rate in self.rates:
            return sample_rate
        return min(self.rates, key=lambda r: (r < sample_rate, abs(r - sample_rate)))


_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)

FORMATS: dict[str, Format] = {
    "wav": Format("wav", "wav", "pcm_s16le", "audio/wav", ".wav"),
    "flac": Format("flac", "flac", "flac", "audio/flac", ".flac"),
    "mp3": Format("mp3", "mp3", "libmp3lame", "audio/mpeg", ".mp3", _MP3_RATES),
    "opus": Format("opus", "ogg", "libopus", "audio/ogg", ".opus", _OPUS_RATES),
    "ogg": Format("ogg", "ogg", "libopus", "audio/ogg", ".ogg", _OPUS_RATES),
    "aac": Format("aac", "adts", "aac", "audio/aac", ".aac"),
    "pcm": Format("pcm", None, None, "audio/pcm", ".pcm"),
}

#: file suffixes the CLI accepts for output, and the format each one means
SUFFIXES: dict[str, str] = {
    ".wav": "wav",
    ".flac": "flac",
    ".mp3": "mp3",
    ".ogg": "ogg",
    ".opus": "opus",
    ".aac": "aac",
    ".pcm": "pcm",
}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise InvalidOption(
            f"unsupported audio format {name!r}; choose one of: {', '.join(FORMATS)}",
            "response_format",
        ) from None


def format_for_path(path: str | Path) -> Format:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidOption(
            f"cannot tell the output format from {str(path)!r}; "
            f"end the name with one of: {', '.join(SUFFIXES)}",
            "output",
        )
    return FORMATS[SUFFIXES[suffix]]


def encode(audio: Audio, fmt: str | Format) -> bytes:
    """The whole audio as a file in `fmt`."""
    encoder = StreamEncoder(fmt, audio.sample_rate)
    return encoder.push(audio) + encoder.close()


class _Sink:
    """A write-only, non-seekable file for PyAV: muxers then emit bytes in order, for streaming."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def wav_header(sample_rate: int, data_bytes: int = 0xFFFFFFFF - 36) -> bytes:
    """A 16-bit mono WAV header; the default size marks a stream of unknown length."""
    return (
        b"RIFF"
        + struct.pack("<I", min(36 + data_bytes, 0xFFFFFFFF))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", min(data_bytes, 0xFFFFFFFF))
    )


class StreamEncoder:
    """Encodes audio chunk by chunk; each `push` returns the bytes ready so far.

    WAV and PCM are written directly (a streamed WAV header declares an unknown length, as
    OpenAI's API does); compressed formats go through PyAV into a non-seekable sink.
    """

    def __init__(self, fmt: str | Format, sample_rate: int, *, streaming: bool = False) -> None:
        self.format = get_format(fmt) if isinstance(fmt, str) else fmt
        self.sample_rate = self.format.rate_for(sample_rate)
        self._streaming = streaming
        self._pending: list[np.ndarray] = []  # whole-file WAV: header needs the final size
        self._started = False
        self._closed = False
        self._sink = _Sink()
        self._container: av.container.OutputContainer | None = None
        self._stream: av.audio.stream.AudioStream | None = None
        self._pts = 0

    def _open(self) -> None:
        fmt = self.format
        assert fmt.container and fmt.codec
        self._container = av.open(self._sink, mode="w", format=fmt.container)
        stream = self._container.add_stream(fmt.codec, rate=self.sample_rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = "mono"
        if fmt.codec == "libmp3lame":
            stream.bit_rate = 64000
        elif fmt.codec == "aac":
            stream.bit_rate = 96000
        self._stream = stream

    def push(self, audio: Audio) -> bytes:
        if self._closed:
            raise RuntimeError("encoder is closed")
        pcm = audio.resample(self.sample_rate).to_int16()
        name = self.format.name
        if name == "pcm":
            return pcm.astype("<i2").tobytes()
        if name == "wav":
            if not self._streaming:
                self._pending.append(pcm)
                return b""
            head = b"" if self._started else wav_header(self.sample_rate)
            self._started = True
            return head + pcm.astype("<i2").tobytes()
        if self._container is None:
            self._open()
        assert self._stream is not None and self._container is not None
        if len(pcm):
            frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = self.sample_rate
            frame.pts = self._pts
            self._pts += len(pcm)
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        return self._sink.drain()

    def close(self) -> bytes:
        """Flush the encoder and return the last bytes."""
        if self._closed:
            return b""
        self._closed = True
        name = self.format.name
        if name == "pcm":
            return b""
        if name == "wav":
            if self._streaming:
                return b"" if self._started else wav_header(self.sample_rate)
            data = np.concatenate(self._pending).astype("<i2").tobytes() if self._pending else b""
            return wav_header(self.sample_rate, len(data)) + data
        if self._container is None:
            self._open()
        assert self._stream is not None and self._container is not None
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        return self._sink.drain()


def write(audio: Audio, path: str | Path) -> Path:
    """Write `audio` to `path`, the format following the suffix."""
    target = Path(path)
    fmt = format_for_path(target)
    data = encode(audio, fmt)
    try:
        target.write_bytes(data)
    except OSError as exc:
        from revoice.errors import OutputError

        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target
