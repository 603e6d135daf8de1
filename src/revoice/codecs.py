"""Decoding and encoding with PyAV (FFmpeg): the only place that touches audio file formats."""

from __future__ import annotations

import io
import struct
import time
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

#: The demuxers revoice opens: each reads only the bytes it is given. FFmpeg refuses every
#: other one before it reads a byte, so an upload can never be a playlist or a concat list
#: (which read other files), an SDP/RTP/RTSP description (which opens network sockets), an
#: image sequence or a terminal capture. A demuxer named by several names ("mov,mp4,m4a")
#: is allowed when any of them is listed.
DEMUXERS = (
    "wav",
    "w64",
    "flac",
    "mp3",
    "ogg",
    "matroska",
    "webm",
    "mov",
    "mp4",
    "m4a",
    "aac",
    "aiff",
    "caf",
    "au",
    "amr",
    "wv",
    "asf",
)
#: Readable containers, as a user reads them (for the error message).
READABLE = (
    "wav, flac, mp3, ogg (vorbis, opus), webm/mkv, m4a/mp4/aac, aiff, caf, au, amr, wavpack, wma"
)
#: FFmpeg opens no protocol at all for an input: the bytes come from Python, and anything a
#: demuxer might try to open beside them (a second file, a URL) is refused.
_OPEN_OPTIONS = {"format_whitelist": ",".join(DEMUXERS), "protocol_whitelist": "none"}
#: Decoded audio above this rate is resampled to it while decoding: speech needs no more, and
#: a file claiming 655 kHz would otherwise cost 13x the memory of 48 kHz per second.
MAX_RATE = 48_000
#: No single decode runs longer than this (seconds of wall time), whatever the input.
DECODE_TIMEOUT = 120.0


def decode(
    source: Source, *, max_seconds: float | None = None, timeout: float = DECODE_TIMEOUT
) -> Audio:
    """Decode audio (wav, flac, mp3, ogg, opus, webm, m4a, ...) to mono float32.

    Only the containers in `DEMUXERS` are opened, and from Python's bytes: FFmpeg opens no
    file or socket on behalf of an input. Multichannel audio is downmixed while decoding; the
    native sample rate is kept up to `MAX_RATE`. Decoding stops with `InputTooLarge` as soon
    as `max_seconds` is passed, so a tiny file that expands to hours of audio never fills
    memory, and with `AudioDecodeError` after `timeout` seconds.
    """
    if isinstance(source, bytes):
        if not source:
            raise AudioDecodeError("the audio file is empty (0 bytes)")
        return _decode_bytes(io.BytesIO(source), max_seconds, timeout)
    if isinstance(source, str | Path):
        return _decode_path(Path(source), max_seconds, timeout)
    return _decode_bytes(source, max_seconds, timeout)


def unreadable(path: Path) -> str | None:
    """Why `path` cannot be read as an input file ("no such file or directory", "it is a
    directory", ...), in the words every command uses; None when it can be opened."""
    if not path.exists():
        return "no such file or directory"
    if path.is_dir():
        return "it is a directory, not a file"
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()
    return None


def _decode_path(path: Path, max_seconds: float | None, timeout: float) -> Audio:
    """A file's audio; every failure says `cannot read PATH: why`."""
    reason = unreadable(path)
    if reason is None and path.stat().st_size == 0:
        reason = "it is empty (0 bytes)"
    if reason is not None:
        raise AudioDecodeError(f"cannot read {path}: {reason}")
    try:
        with path.open("rb") as handle:
            return _decode_bytes(handle, max_seconds, timeout)
    except AudioDecodeError as exc:
        if _is_text(path):
            error = AudioDecodeError(
                f"cannot read {path}: it is a text file, not a readable audio file"
            )
            error.text_file = True
            raise error from None
        raise AudioDecodeError(f"cannot read {path}: {exc}") from None
    except OSError as exc:
        raise AudioDecodeError(f"cannot read {path}: {exc.strerror or exc}") from None


def _is_text(path: Path) -> bool:
    """Whether the file starts like text (UTF-8, no control bytes but white space)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    text = head.decode("utf-8", errors="ignore")  # a character cut at 4096 bytes: dropped
    if not text or len(text.encode("utf-8")) < len(head) - 3:
        return False
    return all(ch.isprintable() or ch in "\t\n\r\f" for ch in text)


def _decode_bytes(source: BinaryIO, max_seconds: float | None, timeout: float) -> Audio:
    try:
        container = av.open(
            source, mode="r", metadata_errors="ignore", options=_OPEN_OPTIONS, timeout=timeout
        )
    except _DECODE_ERRORS as exc:
        raise AudioDecodeError(
            f"not a readable audio file ({_reason(exc)}); revoice reads {READABLE}"
        ) from None
    try:
        return _decode_container(container, max_seconds, time.monotonic() + timeout)
    finally:
        container.close()


def _decode_container(
    container: av.container.InputContainer, max_seconds: float | None, deadline: float
) -> Audio:
    if not container.streams.audio:
        raise AudioDecodeError("the file has no audio stream")
    stream = container.streams.audio[0]
    chunks: list[np.ndarray] = []
    total = 0
    rate = 0
    mixer: _Mixer | None = None
    limit = None
    try:
        for frame in container.decode(stream):
            if mixer is None:
                native = frame.sample_rate or stream.rate
                if not native:
                    raise AudioDecodeError("the audio stream declares no sample rate")
                rate = min(native, MAX_RATE)
                mixer = _Mixer(rate)
                limit = None if max_seconds is None else int(max_seconds * rate)
            for chunk in mixer.mix(frame):
                chunks.append(chunk)
                total += len(chunk)
            if limit is not None and total > limit:
                raise InputTooLarge(
                    f"the audio is longer than the limit of {max_seconds:g} s", "file"
                )
            if time.monotonic() > deadline:
                raise AudioDecodeError("the audio took too long to decode")
        if mixer is not None:
            chunks.extend(mixer.flush())
    except _DECODE_ERRORS as exc:
        # A truncated or partly corrupt file: keep what decoded, fail only if nothing did.
        if not chunks:
            raise AudioDecodeError(f"the audio could not be decoded ({_reason(exc)})") from None
    if mixer is None:
        if stream.rate:
            return Audio(np.zeros(0, dtype=np.float32), min(stream.rate, MAX_RATE))
        raise AudioDecodeError("the audio stream holds no samples")
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    del chunks
    if limit is not None and len(samples) > limit:
        raise InputTooLarge(f"the audio is longer than the limit of {max_seconds:g} s", "file")
    return Audio(np.clip(samples, -1.0, 1.0, out=samples), rate)


_FLOAT_FORMATS = {"flt", "fltp", "dbl", "dblp"}


class _Mixer:
    """Decoded frames to mono float32 at `rate`.

    FFmpeg downmixes the layouts it knows (s32 output, so its downmix matrix is normalised:
    stereo and 5.1 mix to mono without gain, where float output would sum and clip); other
    channel counts (9, 32, ...) are averaged here. Non-finite float samples are zeroed first
    (FFmpeg would turn NaN into full-scale clicks).
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.resampler: av.AudioResampler | None = av.AudioResampler(
            format="s32", layout="mono", rate=rate
        )
        self.fallback: av.AudioResampler | None = None
        self.started = False

    def mix(self, frame: av.AudioFrame) -> list[np.ndarray]:
        if frame.format.name in _FLOAT_FORMATS:
            frame = _finite(frame)
        if self.resampler is not None:
            try:
                mixed = [_floats(out) for out in self.resampler.resample(frame)]
            except (av.error.FFmpegError, ValueError):
                if self.started:
                    raise
                self.resampler = None  # a layout FFmpeg cannot downmix: averaged below
            else:
                self.started = True
                return mixed
        return self._average(frame)

    def _average(self, frame: av.AudioFrame) -> list[np.ndarray]:
        mono = _channel_mean(frame)
        out = av.AudioFrame.from_ndarray(mono.reshape(1, -1), format="flt", layout="mono")
        out.sample_rate = frame.sample_rate
        if self.fallback is None:
            self.fallback = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
        return [_plain(o) for o in self.fallback.resample(out)]

    def flush(self) -> list[np.ndarray]:
        if self.resampler is not None:
            return [_floats(out) for out in self.resampler.resample(None)]
        if self.fallback is not None:
            return [_plain(out) for out in self.fallback.resample(None)]
        return []


def _channel_mean(frame: av.AudioFrame) -> np.ndarray:
    """The mean of a frame's channels as float32, whatever its sample format."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T
    kind = data.dtype
    floats = data.astype(np.float32)
    if kind == np.uint8:
        floats = (floats - 128.0) / 128.0
    elif np.issubdtype(kind, np.integer):
        floats /= float(2 ** (8 * kind.itemsize - 1))
    return np.asarray(floats.mean(axis=0), dtype=np.float32)


def _finite(frame: av.AudioFrame) -> av.AudioFrame:
    """The frame with NaN and infinite samples set to 0 (a copy only when there are some)."""
    data = frame.to_ndarray()
    if np.isfinite(data).all():
        return frame
    clean = av.AudioFrame.from_ndarray(
        np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0),  # type: ignore[arg-type]
        format=frame.format.name,
        layout=frame.layout.name,
    )
    clean.sample_rate = frame.sample_rate
    clean.pts = frame.pts
    clean.time_base = frame.time_base
    return clean


def _floats(frame: av.AudioFrame) -> np.ndarray:
    """A mono s32 frame as float32 samples in [-1, 1)."""
    return frame.to_ndarray().reshape(-1).astype(np.float32) * np.float32(1 / 2**31)


def _plain(frame: av.AudioFrame) -> np.ndarray:
    return np.asarray(frame.to_ndarray().reshape(-1), dtype=np.float32)


def decode_pcm(data: bytes, sample_rate: int) -> Audio:
    """Headerless signed 16-bit little-endian mono PCM."""
    usable = len(data) - len(data) % 2
    pcm = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
    return Audio(pcm, sample_rate)


#: sample widths of raw PCM (bytes) and their numpy types: unsigned 8-bit, signed 16/32-bit
_RAW_WIDTHS: dict[int, str] = {1: "u1", 2: "<i2", 4: "<i4"}


def decode_raw(data: bytes, sample_rate: int, width: int, channels: int) -> np.ndarray:
    """Headerless little-endian PCM (width 1, 2 or 4 bytes, interleaved channels) as mono
    float32 samples; a trailing partial frame is dropped. Raises `AudioDecodeError` for a
    format it cannot read."""
    if width not in _RAW_WIDTHS:
        raise AudioDecodeError(f"sample width must be 1, 2 or 4 bytes, not {width!r}")
    if not isinstance(channels, int) or not 1 <= channels <= 32:
        raise AudioDecodeError(f"channels must be 1 to 32, not {channels!r}")
    if not isinstance(sample_rate, int) or not 1000 <= sample_rate <= 384_000:
        raise AudioDecodeError(f"sample rate must be 1000 to 384000 Hz, not {sample_rate!r}")
    frame = width * channels
    usable = len(data) - len(data) % frame
    ints = np.frombuffer(data[:usable], dtype=_RAW_WIDTHS[width]).astype(np.float32)
    if width == 1:
        ints -= 128.0
    samples = ints / float(2 ** (8 * width - 1))
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples.astype(np.float32)


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
    # AAC in MP4 (iTunes' .m4a), fragmented: written in order, without seeking back, so it
    # streams like the others; players, browsers and FFmpeg read it as any .m4a
    "m4a": Format("m4a", "ipod", "aac", "audio/mp4", ".m4a"),
    # OpenAI's pcm is 24 kHz whatever the voice (clients play it at 24 kHz); pcm_native is
    # the voice's own rate (GET /v1/audio/voices tells it, as does X-Revoice-Sample-Rate)
    "pcm": Format("pcm", None, None, "audio/pcm", ".pcm", (24000,)),
    "pcm_native": Format("pcm_native", None, None, "audio/pcm", ".pcm"),
}

#: file suffixes the CLI accepts for output, and the format each one means (a suffix two
#: formats share means the first: .pcm is OpenAI's 24 kHz pcm)
SUFFIXES: dict[str, str] = {}
for _name, _format in FORMATS.items():
    SUFFIXES.setdefault(_format.suffix, _name)
#: muxer options: MP4 as fragments of about a second, each complete when written
_MUX_OPTIONS = {
    "ipod": {"movflags": "frag_keyframe+empty_moov+default_base_moof", "frag_duration": "1000000"}
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
        self._container = av.open(
            self._sink, mode="w", format=fmt.container, options=_MUX_OPTIONS.get(fmt.container)
        )
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
        if self.format.container is None:  # raw PCM: pcm, pcm_native
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
        if self.format.container is None:
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
