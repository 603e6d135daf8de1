"""Decoding every promised input format with PyAV, bad input, limits, and encoding round trips."""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revoice import codecs
from revoice.audio import Audio
from revoice.errors import AudioDecodeError, InputTooLarge, InvalidOption, OutputError

LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


def sine(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    """A tone with 10 ms fades (an abrupt end makes lossy codecs ring past full scale)."""
    t = np.arange(round(seconds * rate)) / rate
    wave = amplitude * np.sin(2 * np.pi * freq * t)
    ramp = min(len(wave) // 2, rate // 100)
    if ramp:
        fade = np.linspace(0.0, 1.0, ramp)
        wave[:ramp] *= fade
        wave[-ramp:] *= fade[::-1]
    return wave.astype(np.float32)


def peak_hz(audio: Audio) -> float:
    spectrum = np.abs(np.fft.rfft(audio.samples))
    return float(np.argmax(spectrum) * audio.sample_rate / len(audio.samples))


def write_with_pyav(
    path: Path,
    container: str,
    codec: str,
    rate: int,
    *,
    channels: int = 1,
    seconds: float = 1.0,
    freq: float = 440.0,
    amplitude: float = 0.5,
    planes: np.ndarray | None = None,
    experimental: bool = False,
) -> Path:
    """Encode a tone (the same in every channel, unless `planes` is given) straight with PyAV."""
    if planes is None:
        planes = np.tile(sine(freq, seconds, rate, amplitude), (channels, 1))
    channels = planes.shape[0]
    layout = LAYOUTS[channels]
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        if experimental:
            stream.codec_context.options = {"strict": "experimental"}
        step = 1024
        for start in range(0, planes.shape[1], step):
            chunk = np.ascontiguousarray(planes[:, start : start + step])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def wav_bytes(samples: np.ndarray, rate: int, *, channels: int = 1, float32: bool = False) -> bytes:
    """A WAV file built by hand: 16-bit PCM or 32-bit IEEE float, interleaved `samples`."""
    if float32:
        data = np.asarray(samples, dtype="<f4").tobytes()
        tag, bits = 3, 32
    else:
        data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
        tag, bits = 1, 16
    align = channels * bits // 8
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, tag, channels, rate, rate * align, align, bits)
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


# -- every input format the product promises ------------------------------------------------

# name -> (suffix, container, codec, native rate, channels, experimental)
INPUTS = {
    "wav": (".wav", "wav", "pcm_s16le", 44100, 1, False),
    "flac": (".flac", "flac", "flac", 44100, 1, False),
    "mp3": (".mp3", "mp3", "libmp3lame", 44100, 1, False),
    # FFmpeg's native Vorbis encoder is experimental and only encodes stereo
    "ogg-vorbis": (".ogg", "ogg", "vorbis", 44100, 2, True),
    "ogg-opus": (".opus", "ogg", "libopus", 48000, 1, False),
    "webm-opus": (".webm", "webm", "libopus", 48000, 1, False),
    "m4a-aac": (".m4a", "mp4", "aac", 44100, 1, False),
    "m4a-aac-ipod": (".m4a", "ipod", "aac", 44100, 1, False),
}


@pytest.mark.parametrize("name", list(INPUTS))
def test_decodes_each_promised_input_format(tmp_path: Path, name: str) -> None:
    suffix, container, codec, rate, channels, experimental = INPUTS[name]
    path = write_with_pyav(
        tmp_path / f"tone{suffix}",
        container,
        codec,
        rate,
        channels=channels,
        seconds=1.0,
        experimental=experimental,
    )
    audio = codecs.decode(path)
    assert isinstance(audio, Audio)
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.sample_rate == rate
    assert audio.duration == pytest.approx(1.0, abs=0.1)
    assert peak_hz(audio) == pytest.approx(440, abs=3)
    assert np.abs(audio.samples).max() == pytest.approx(0.5, abs=0.1)


@pytest.mark.parametrize("name", ["wav", "flac", "mp3", "ogg-vorbis", "m4a-aac"])
def test_decodes_from_bytes_and_file_objects(tmp_path: Path, name: str) -> None:
    suffix, container, codec, rate, channels, experimental = INPUTS[name]
    path = write_with_pyav(
        tmp_path / f"tone{suffix}",
        container,
        codec,
        rate,
        channels=channels,
        seconds=0.5,
        experimental=experimental,
    )
    from_path = codecs.decode(path)
    from_str = codecs.decode(str(path))
    from_bytes = codecs.decode(path.read_bytes())
    with path.open("rb") as handle:
        from_file = codecs.decode(handle)
    for other in (from_str, from_bytes, from_file):
        assert other.sample_rate == from_path.sample_rate
        assert np.array_equal(other.samples, from_path.samples)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000, 96000, 192000])
@pytest.mark.parametrize("kind", ["wav", "flac"])
def test_keeps_native_sample_rate_up_to_48k(tmp_path: Path, kind: str, rate: int) -> None:
    suffix, container, codec = INPUTS[kind][:3]
    path = write_with_pyav(tmp_path / f"t{suffix}", container, codec, rate, seconds=0.5)
    audio = codecs.decode(path)
    expected = min(rate, codecs.MAX_RATE)  # higher rates are resampled while decoding
    assert audio.sample_rate == expected
    assert len(audio) == pytest.approx(0.5 * expected, abs=64)
    assert peak_hz(audio) == pytest.approx(440, abs=3)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_keeps_native_sample_rate_lossy(tmp_path: Path, rate: int) -> None:
    path = write_with_pyav(tmp_path / "t.mp3", "mp3", "libmp3lame", rate, seconds=1.0)
    audio = codecs.decode(path)
    assert audio.sample_rate == rate
    assert audio.duration == pytest.approx(1.0, abs=0.2)  # plus the encoder's priming delay
    assert peak_hz(audio) == pytest.approx(440, abs=3)


@pytest.mark.parametrize(
    ("suffix", "container", "codec", "channels", "experimental"),
    [
        (".wav", "wav", "pcm_s16le", 2, False),
        (".wav", "wav", "pcm_s16le", 6, False),
        (".flac", "flac", "flac", 2, False),
        (".flac", "flac", "flac", 6, False),
        (".ogg", "ogg", "vorbis", 2, True),
        (".m4a", "mp4", "aac", 2, False),
        (".m4a", "mp4", "aac", 6, False),
    ],
)
def test_multichannel_is_downmixed_to_mono_without_clipping(
    tmp_path: Path, suffix: str, container: str, codec: str, channels: int, experimental: bool
) -> None:
    path = write_with_pyav(
        tmp_path / f"multi{suffix}",
        container,
        codec,
        44100,
        channels=channels,
        amplitude=0.8,
        experimental=experimental,
    )
    audio = codecs.decode(path)
    assert audio.samples.ndim == 1
    assert audio.sample_rate == 44100
    assert audio.duration == pytest.approx(1.0, abs=0.1)
    assert peak_hz(audio) == pytest.approx(440, abs=3)
    # identical channels mix to the same tone: not summed into a clipped square wave
    assert np.mean(np.abs(audio.samples) >= 0.99) < 0.01
    assert np.abs(audio.samples).max() == pytest.approx(0.8, abs=0.15)


def test_stereo_downmix_mixes_both_channels() -> None:
    left = sine(440, 0.5, 16000, 0.8)
    right = sine(1000, 0.5, 16000, 0.8)
    interleaved = np.stack([left, right], axis=1).reshape(-1)
    audio = codecs.decode(wav_bytes(interleaved, 16000, channels=2))
    assert len(audio) == 8000
    spectrum = np.abs(np.fft.rfft(audio.samples))
    freqs = np.fft.rfftfreq(len(audio), 1 / 16000)
    top = sorted(freqs[np.argsort(spectrum)[-2:]])
    assert top == pytest.approx([440, 1000], abs=3)
    assert np.abs(audio.samples).max() <= 1.0


# -- bad input ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_wav() -> bytes:
    return wav_bytes(sine(440, 1.0, 16000), 16000)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda wav: b"", id="empty-bytes"),
        pytest.param(lambda wav: os.urandom(4096), id="random-bytes"),
        pytest.param(lambda wav: bytes(range(256)) * 8, id="byte-ramp"),
        pytest.param(lambda wav: wav[:20], id="truncated-header-20"),
        pytest.param(lambda wav: wav[:4], id="riff-only"),
        pytest.param(lambda wav: b"hello, this is not audio\n" * 100, id="text"),
        pytest.param(lambda wav: b"\x89PNG\r\n\x1a\n" + bytes(1000), id="png-magic"),
        pytest.param(lambda wav: io.BytesIO(b""), id="empty-file-object"),
    ],
)
def test_bad_bytes_raise_audio_decode_error(
    good_wav: bytes, make: Callable[[bytes], bytes | io.BytesIO]
) -> None:
    with pytest.raises(AudioDecodeError) as info:
        codecs.decode(make(good_wav))
    assert str(info.value)  # a message meant for users
    assert info.value.status == 415


def test_text_file_raises_audio_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("These are my notes, not a recording.\n" * 20, encoding="utf-8")
    with pytest.raises(
        AudioDecodeError, match="it is a text file, not a readable audio file"
    ) as info:
        codecs.decode(path)
    assert str(path) in str(info.value) and info.value.text_file


@pytest.mark.parametrize(
    ("name", "why"),
    [("missing.wav", "no such file or directory"), ("dir", "it is a directory, not a file")],
)
def test_missing_path_or_directory_raises_audio_decode_error(
    tmp_path: Path, name: str, why: str
) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(AudioDecodeError, match=f"^cannot read {tmp_path / name}: {why}$"):
        codecs.decode(tmp_path / name)
    with pytest.raises(AudioDecodeError):
        codecs.decode(str(tmp_path / name))


def test_empty_file_raises_audio_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="empty"):
        codecs.decode(path)


def test_video_only_container_raises_audio_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "video.mkv"
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("ffv1", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(AudioDecodeError, match="no audio stream"):
        codecs.decode(path)


def test_wav_truncated_mid_data_decodes_what_is_there(good_wav: bytes) -> None:
    cut = good_wav[: 44 + 2 * 5000 + 1]  # 5000 whole samples and half of the next
    audio = codecs.decode(cut)
    assert audio.sample_rate == 16000
    assert 4000 <= len(audio) <= 5000
    assert np.allclose(audio.samples, sine(440, 1.0, 16000)[: len(audio)], atol=1e-3)


def test_zero_length_wav_is_empty_audio(tmp_path: Path) -> None:
    data = wav_bytes(np.zeros(0, np.float32), 22050)
    assert data == codecs.wav_header(22050, 0)
    audio = codecs.decode(data)
    assert len(audio) == 0
    assert audio.sample_rate == 22050
    path = tmp_path / "zero.wav"
    path.write_bytes(data)
    assert len(codecs.decode(path)) == 0


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: wav_bytes(sine(440, 1.0, 16000), 16000), id="wav"),
        pytest.param(lambda: codecs.encode(Audio(sine(440, 1.0, 16000), 16000), "flac"), id="flac"),
        pytest.param(lambda: codecs.encode(Audio(sine(440, 1.0, 16000), 16000), "mp3"), id="mp3"),
    ],
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(hyp=st.data())
def test_corrupted_or_cut_files_only_ever_raise_audio_decode_error(
    make: Callable[[], bytes], hyp: st.DataObject
) -> None:
    raw = bytearray(make())
    cut = hyp.draw(st.integers(1, len(raw)), label="cut")
    raw = raw[:cut]
    for _ in range(hyp.draw(st.integers(0, 8), label="flips")):
        pos = hyp.draw(st.integers(0, len(raw) - 1))
        raw[pos] = hyp.draw(st.integers(0, 255))
    try:
        audio = codecs.decode(bytes(raw))
    except AudioDecodeError:
        return
    assert np.isfinite(audio.samples).all()
    assert np.abs(audio.samples).max(initial=0) <= 1.0


# -- limits ---------------------------------------------------------------------------------


class CountingReader(io.BytesIO):
    """A file object that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3"])
def test_max_seconds_exceeded_raises_and_stops_early(fmt: str) -> None:
    minute = Audio(sine(440, 60.0, 16000), 16000)
    data = codecs.encode(minute, fmt)
    source = CountingReader(data)
    with pytest.raises(InputTooLarge, match="limit of 5 s") as info:
        codecs.decode(source, max_seconds=5)
    assert info.value.status == 413
    assert info.value.param == "file"
    assert source.bytes_read < len(data) / 2  # it did not read the whole minute first


def test_max_seconds_not_exceeded_decodes_everything() -> None:
    data = codecs.encode(Audio(sine(440, 3.0, 16000), 16000), "wav")
    assert len(codecs.decode(data, max_seconds=3.0)) == 48000
    assert len(codecs.decode(data, max_seconds=10)) == 48000
    with pytest.raises(InputTooLarge):
        codecs.decode(data, max_seconds=2.9)


def test_non_finite_float_wav_decodes_to_finite_samples() -> None:
    samples = sine(440, 0.5, 16000)
    samples[::7] = np.nan
    samples[1::11] = np.inf
    samples[2::13] = -np.inf
    data = wav_bytes(samples, 16000, float32=True)
    assert np.isnan(np.frombuffer(data[44:], "<f4")).any()  # really in the file
    audio = codecs.decode(data)
    assert len(audio) == len(samples)
    assert np.isfinite(audio.samples).all()
    assert np.abs(audio.samples).max() <= 1.0
    good = np.isfinite(samples)
    assert np.allclose(audio.samples[good], samples[good], atol=1e-6)


def test_out_of_range_float_wav_is_clipped() -> None:
    audio = codecs.decode(wav_bytes(np.array([0.5, 2.0, -3.0], np.float32), 8000, float32=True))
    assert audio.samples.tolist() == pytest.approx([0.5, 1.0, -1.0])


# -- headerless PCM -------------------------------------------------------------------------


def test_decode_pcm() -> None:
    data = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    audio = codecs.decode_pcm(data + b"\x01", 16000)  # a stray odd byte is dropped
    assert audio.sample_rate == 16000
    assert audio.samples.tolist() == pytest.approx([0.0, 0.5, -1.0, 32767 / 32768])
    assert len(codecs.decode_pcm(b"", 8000)) == 0


# -- encoding -------------------------------------------------------------------------------


def _decode_output(data: bytes, fmt: codecs.Format, rate: int) -> Audio:
    return codecs.decode_pcm(data, rate) if fmt.container is None else codecs.decode(data)


LOSSY = {"mp3", "aac", "m4a", "opus", "ogg"}


@pytest.mark.parametrize("rate", [16000, 22050, 24000])
@pytest.mark.parametrize("name", list(codecs.FORMATS))
def test_round_trip_every_format(name: str, rate: int) -> None:
    fmt = codecs.FORMATS[name]
    source = Audio(sine(440, 1.0, rate), rate)
    data = codecs.encode(source, name)
    assert data
    out = _decode_output(data, fmt, fmt.rate_for(rate))
    expected_rate = 48000 if fmt.codec == "libopus" else fmt.rate_for(rate)  # Opus decodes at 48k
    assert out.sample_rate == expected_rate
    assert out.duration == pytest.approx(1.0, abs=0.2 if name in LOSSY else 1e-3)
    assert peak_hz(out) == pytest.approx(440, abs=3)
    if name not in LOSSY:
        assert np.allclose(out.samples, source.resample(out.sample_rate).samples, atol=1e-3)


def test_encode_accepts_format_objects_and_names() -> None:
    audio = Audio(sine(440, 0.2, 16000), 16000)
    assert codecs.encode(audio, codecs.FORMATS["flac"]) == codecs.encode(audio, "FLAC")


def test_wav_output_header_and_size() -> None:
    audio = Audio(sine(440, 0.5, 16000), 16000)
    data = codecs.encode(audio, "wav")
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert struct.unpack("<I", data[40:44])[0] == 8000 * 2
    assert len(data) == 44 + 8000 * 2


@pytest.mark.parametrize("name", list(codecs.FORMATS))
def test_stream_encoder_chunks_decode_to_total_duration(name: str) -> None:
    fmt = codecs.FORMATS[name]
    encoder = codecs.StreamEncoder(name, 24000, streaming=True)
    chunks = [Audio(sine(440, 0.4, 24000), 24000) for _ in range(5)]
    parts = [encoder.push(chunk) for chunk in chunks] + [encoder.close()]
    assert encoder.close() == b""  # closing twice is harmless
    with pytest.raises(RuntimeError):
        encoder.push(chunks[0])
    out = _decode_output(b"".join(parts), fmt, encoder.sample_rate)
    assert out.duration == pytest.approx(2.0, abs=0.15 if name in LOSSY else 1e-3)
    assert peak_hz(out) == pytest.approx(440, abs=3)
    if name in ("wav", "pcm", "pcm_native"):
        # uncompressed formats stream every chunk as soon as it is pushed
        assert all(len(p) >= 0.4 * 24000 * 2 for p in parts[:-1])


def test_streamed_wav_declares_unknown_length_and_still_decodes() -> None:
    encoder = codecs.StreamEncoder("wav", 16000, streaming=True)
    first = encoder.push(Audio(sine(440, 0.25, 16000), 16000))
    assert first[:4] == b"RIFF"
    assert struct.unpack("<I", first[40:44])[0] == 0xFFFFFFFF - 36
    second = encoder.push(Audio(sine(440, 0.25, 16000), 16000))
    assert second[:4] != b"RIFF"  # the header is sent once
    audio = codecs.decode(first + second + encoder.close())
    assert len(audio) == 8000


def test_stream_encoder_resamples_to_a_rate_the_codec_takes() -> None:
    encoder = codecs.StreamEncoder("opus", 22050)
    assert encoder.sample_rate == 24000
    data = encoder.push(Audio(sine(440, 0.5, 22050), 22050)) + encoder.close()
    out = codecs.decode(data)
    assert out.duration == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize(
    ("fmt", "rate", "expected"),
    [
        ("opus", 48000, 48000),
        ("opus", 22050, 24000),
        ("opus", 44100, 48000),
        ("opus", 96000, 48000),
        ("opus", 8000, 8000),
        ("mp3", 22050, 22050),
        ("mp3", 192000, 48000),
        ("mp3", 10000, 11025),
        ("wav", 192000, 192000),
        ("flac", 7000, 7000),
    ],
)
def test_rate_for(fmt: str, rate: int, expected: int) -> None:
    assert codecs.get_format(fmt).rate_for(rate) == expected


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("out.wav", "wav"),
        ("a/b/out.FLAC", "flac"),
        ("x.mp3", "mp3"),
        ("x.ogg", "ogg"),
        ("x.opus", "opus"),
        ("x.aac", "aac"),
        ("x.M4A", "m4a"),
        ("x.pcm", "pcm"),
        (Path("x.Wav"), "wav"),
    ],
)
def test_format_for_path(path: str | Path, name: str) -> None:
    assert codecs.format_for_path(path).name == name


@pytest.mark.parametrize("path", ["out.txt", "out", "out.mp4", "out.wav.bak", ".wav"])
def test_format_for_path_rejects_unknown_suffixes(path: str) -> None:
    with pytest.raises(InvalidOption) as info:
        codecs.format_for_path(path)
    assert info.value.param == "output"
    assert ".wav" in str(info.value) and ".opus" in str(info.value)


def test_get_format_rejects_unknown_names() -> None:
    with pytest.raises(InvalidOption, match="unsupported audio format") as info:
        codecs.get_format("wma")
    assert info.value.param == "response_format"
    assert codecs.get_format("MP3") is codecs.FORMATS["mp3"]


def test_every_suffix_names_a_format() -> None:
    for suffix, name in codecs.SUFFIXES.items():
        assert codecs.FORMATS[name].suffix == suffix


@pytest.mark.parametrize(
    "name", ["out.wav", "out.flac", "out.mp3", "out.ogg", "out.aac", "out.m4a"]
)
def test_write_then_decode(tmp_path: Path, name: str) -> None:
    audio = Audio(sine(440, 0.5, 24000), 24000)
    target = codecs.write(audio, tmp_path / name)
    assert target == tmp_path / name
    out = codecs.decode(target)
    assert out.duration == pytest.approx(0.5, abs=0.1)
    assert peak_hz(out) == pytest.approx(440, abs=4)


def test_write_to_unwritable_path_raises_output_error(tmp_path: Path) -> None:
    audio = Audio(sine(440, 0.1, 16000), 16000)
    with pytest.raises(OutputError, match="cannot write"):
        codecs.write(audio, tmp_path / "no" / "such" / "dir" / "out.wav")
    (tmp_path / "taken.wav").mkdir()
    with pytest.raises(OutputError):
        codecs.write(audio, tmp_path / "taken.wav")
    with pytest.raises(InvalidOption):
        codecs.write(audio, tmp_path / "out.txt")
    assert not (tmp_path / "out.txt").exists()


def test_m4a_streams_as_it_is_encoded() -> None:
    """.m4a is fragmented MP4: bytes come out about every second, in order, no seeking back,
    and the joined bytes are one file that FFmpeg reads as MP4 with AAC."""
    encoder = codecs.StreamEncoder("m4a", 24000)
    parts = [encoder.push(Audio(sine(440, 1.0, 24000), 24000)) for _ in range(4)]
    parts.append(encoder.close())
    assert all(parts[1:4]), [len(p) for p in parts]
    data = b"".join(parts)
    assert data[4:8] == b"ftyp"
    with av.open(io.BytesIO(data)) as container:
        assert "mp4" in container.format.name
        assert container.streams.audio[0].codec_context.name == "aac"
    out = codecs.decode(data)
    assert out.duration == pytest.approx(4.0, abs=0.2)
    assert peak_hz(out) == pytest.approx(440, abs=3)
