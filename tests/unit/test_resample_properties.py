"""Property tests for resampling: any rate pair keeps length ratio, level and finiteness."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from revoice.audio import Audio

RATES = st.sampled_from([8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000])


@settings(max_examples=60, deadline=None)
@given(
    src=RATES,
    dst=RATES,
    n=st.integers(min_value=0, max_value=20000),
    amplitude=st.floats(min_value=0.0, max_value=1.0),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_resample_keeps_length_ratio_and_bounds(
    src: int, dst: int, n: int, amplitude: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    samples = (rng.uniform(-1, 1, n) * amplitude).astype(np.float32)
    out = Audio(samples, src).resample(dst)
    assert out.sample_rate == dst
    assert abs(len(out) - n * dst / src) <= 2
    assert np.isfinite(out.samples).all()
    assert out.samples.dtype == np.float32


@settings(max_examples=30, deadline=None)
@given(src=RATES, dst=RATES, freq=st.floats(min_value=100.0, max_value=3000.0))
def test_resample_keeps_a_tone_in_band(src: int, dst: int, freq: float) -> None:
    if freq >= 0.45 * min(src, dst):
        return
    t = np.arange(src) / src  # one second
    tone = Audio((0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), src)
    out = tone.resample(dst)
    spectrum = np.abs(np.fft.rfft(out.samples))
    peak = np.argmax(spectrum) * dst / len(out)
    assert abs(peak - freq) <= 2.0
    assert abs(out.rms() - tone.rms()) < 0.02
