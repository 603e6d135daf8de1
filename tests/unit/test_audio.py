"""The Audio value type: validation, resampling, concatenation and PCM conversion."""

from __future__ import annotations

import numpy as np
import pytest

from revoice.audio import Audio


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> Audio:
    t = np.arange(round(seconds * rate)) / rate
    return Audio((amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


def peak_hz(audio: Audio) -> float:
    spectrum = np.abs(np.fft.rfft(audio.samples))
    return float(np.argmax(spectrum) * audio.sample_rate / len(audio.samples))


def test_samples_become_float32_and_duration_follows_rate() -> None:
    audio = Audio(np.zeros(8000, dtype=np.int64), 16000)
    assert audio.samples.dtype == np.float32
    assert audio.duration == pytest.approx(0.5)
    assert len(audio) == 8000


def test_list_input_is_accepted() -> None:
    audio = Audio([0.0, 0.5, -0.5], 8000)  # type: ignore[arg-type]
    assert audio.samples.tolist() == [0.0, 0.5, -0.5]


@pytest.mark.parametrize("shape", [(2, 100), (100, 2), (1, 1, 10)])
def test_rejects_multidimensional_arrays(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="1-D"):
        Audio(np.zeros(shape, dtype=np.float32), 16000)


def test_rejects_scalar() -> None:
    with pytest.raises(ValueError, match="1-D"):
        Audio(np.float32(0.5), 16000)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [0, -16000])
def test_rejects_non_positive_rate(rate: int) -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        Audio(np.zeros(10, dtype=np.float32), rate)


def test_non_finite_samples_are_replaced() -> None:
    audio = Audio(np.array([np.nan, np.inf, -np.inf, 0.25], dtype=np.float32), 16000)
    assert np.isfinite(audio.samples).all()
    assert audio.samples.tolist() == [0.0, 1.0, -1.0, 0.25]


def test_empty_audio() -> None:
    audio = Audio(np.zeros(0, dtype=np.float32), 24000)
    assert len(audio) == 0
    assert audio.duration == 0.0
    assert audio.rms() == 0.0
    assert len(audio.resample(16000)) == 0
    assert audio.resample(16000).sample_rate == 16000
    assert audio.to_int16().dtype == np.int16


@pytest.mark.parametrize(
    ("src", "dst"),
    [(16000, 48000), (48000, 16000), (22050, 24000), (24000, 22050), (44100, 8000), (8000, 192000)],
)
def test_resample_changes_length_proportionally_and_keeps_pitch(src: int, dst: int) -> None:
    audio = tone(440, 1.0, src)
    out = audio.resample(dst)
    assert out.sample_rate == dst
    assert len(out) == pytest.approx(len(audio) * dst / src, abs=2)
    assert out.duration == pytest.approx(audio.duration, abs=1e-3)
    assert peak_hz(out) == pytest.approx(440, abs=2)
    # level is kept (away from the edges, where the filter rings)
    core = out.samples[dst // 10 : -dst // 10]
    assert np.abs(core).max() == pytest.approx(0.5, abs=0.02)


def test_resample_to_same_rate_is_identity() -> None:
    audio = tone(440, 0.1, 16000)
    assert audio.resample(16000) is audio


def test_to_int16_scales_and_clips() -> None:
    audio = Audio(np.array([0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -2.0], dtype=np.float32), 16000)
    pcm = audio.to_int16()
    assert pcm.dtype == np.int16
    assert pcm.tolist() == [0, 16383, -16383, 32767, -32767, 32767, -32767]


def test_rms() -> None:
    assert Audio(np.full(100, 0.5, dtype=np.float32), 16000).rms() == pytest.approx(0.5)
    assert tone(440, 1.0, 16000, amplitude=1.0).rms() == pytest.approx(1 / np.sqrt(2), rel=1e-3)


def test_silence() -> None:
    audio = Audio.silence(0.25, 22050)
    assert len(audio) == round(0.25 * 22050)
    assert audio.sample_rate == 22050
    assert not audio.samples.any()


def test_concat_same_rate_joins_in_order() -> None:
    a = Audio(np.array([0.1, 0.2], dtype=np.float32), 16000)
    b = Audio(np.array([0.3], dtype=np.float32), 16000)
    out = Audio.concat([a, b])
    assert out.sample_rate == 16000
    assert out.samples.tolist() == pytest.approx([0.1, 0.2, 0.3])


def test_concat_mixed_rates_resamples_to_first() -> None:
    parts = [tone(440, 0.5, 16000), tone(440, 0.5, 24000), Audio.silence(0.25, 48000)]
    out = Audio.concat(parts)
    assert out.sample_rate == 16000
    assert out.duration == pytest.approx(1.25, abs=2e-3)
    assert peak_hz(Audio(out.samples[:16000], 16000)) == pytest.approx(440, abs=2)
    assert np.abs(out.samples[-3000:]).max() < 0.01  # the silence stays at the end


def test_concat_to_explicit_rate() -> None:
    out = Audio.concat([tone(440, 0.5, 16000), tone(440, 0.5, 24000)], sample_rate=22050)
    assert out.sample_rate == 22050
    assert len(out) == pytest.approx(22050, abs=4)


def test_concat_nothing() -> None:
    assert len(Audio.concat([])) == 0
    assert Audio.concat([], sample_rate=24000).sample_rate == 24000
    assert Audio.concat(iter([tone(440, 0.1, 8000)])).sample_rate == 8000
