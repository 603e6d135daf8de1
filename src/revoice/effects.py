"""Voice controls applied to any engine's output: pitch, formant (vocal tract), volume.

Pitch and formant use Praat's "Change gender" (PSOLA resynthesis with a formant shift), run
through praat-parselmouth: a field-proven speech tool, not a home-made DSP toy. Speed is left
to the engines, which change their own pace without touching pitch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from revoice.audio import Audio
from revoice.types import FORMANT, PITCH, VOLUME

#: F0 search range for Praat's pitch analysis, wide enough for deep and high voices
_MIN_F0, _MAX_F0 = 60.0, 600.0


@dataclass(frozen=True)
class Effects:
    """pitch: semitones (+ up); formant: ratio (> 1 brighter, < 1 deeper); volume: dB."""

    pitch: float = 0.0
    formant: float = 1.0
    volume: float = 0.0

    def __post_init__(self) -> None:
        PITCH.check(self.pitch)
        FORMANT.check(self.formant)
        VOLUME.check(self.volume)

    def on(self, base: Effects) -> Effects:
        """These controls applied on top of `base`'s (a voice made from a voice that has its
        own): semitones and decibels add, formant ratios multiply, each kept in its range."""
        return Effects(
            pitch=PITCH.clamp(base.pitch + self.pitch),
            formant=FORMANT.clamp(base.formant * self.formant),
            volume=VOLUME.clamp(base.volume + self.volume),
        )

    @property
    def neutral(self) -> bool:
        return self.pitch == 0.0 and self.formant == 1.0 and self.volume == 0.0

    def apply(self, audio: Audio) -> Audio:
        """This audio with the effects applied (unchanged when neutral or silent)."""
        if self.neutral or len(audio) == 0:
            return audio
        samples = audio.samples
        if self.pitch != 0.0 or self.formant != 1.0:
            samples = _change_voice(samples, audio.sample_rate, self.pitch, self.formant)
        if self.volume != 0.0:
            samples = samples * (10.0 ** (self.volume / 20.0))
        return Audio(np.clip(samples, -1.0, 1.0), audio.sample_rate)


def _change_voice(samples: np.ndarray, rate: int, semitones: float, formant: float) -> np.ndarray:
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=rate)
    pitch = sound.to_pitch(pitch_floor=_MIN_F0, pitch_ceiling=_MAX_F0)
    median = call(pitch, "Get quantile", 0, 0, 0.5, "Hertz")
    if not math.isfinite(median) or median <= 0:  # no voiced speech: only the formants move
        median = 0.0
    target = median * 2.0 ** (semitones / 12.0) if median else 0.0
    changed = call(sound, "Change gender", _MIN_F0, _MAX_F0, formant, target, 1.0, 1.0)
    out = np.asarray(changed.values[0], dtype=np.float32)
    # Change gender resamples internally; keep the original length and rate
    return (
        out[: len(samples)]
        if len(out) >= len(samples)
        else np.pad(out, (0, len(samples) - len(out)))
    )


def median_f0(audio: Audio) -> float:
    """Median fundamental frequency of the voiced parts, in Hz (0 when nothing is voiced)."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(
        audio.samples.astype(np.float64), sampling_frequency=audio.sample_rate
    )
    pitch = sound.to_pitch(pitch_floor=_MIN_F0, pitch_ceiling=_MAX_F0)
    value = call(pitch, "Get quantile", 0, 0, 0.5, "Hertz")
    return float(value) if math.isfinite(value) else 0.0


def mean_formants(audio: Audio) -> tuple[float, float]:
    """Mean F1 and F2 over the voiced frames, in Hz (Praat's Burg method)."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(
        audio.samples.astype(np.float64), sampling_frequency=audio.sample_rate
    )
    formants = sound.to_formant_burg(max_number_of_formants=5, maximum_formant=5500)
    pitch = sound.to_pitch(pitch_floor=_MIN_F0, pitch_ceiling=_MAX_F0)
    f1: list[float] = []
    f2: list[float] = []
    for t in pitch.xs():
        if pitch.get_value_at_time(t) > 0:
            a = call(formants, "Get value at time", 1, t, "Hertz", "Linear")
            b = call(formants, "Get value at time", 2, t, "Hertz", "Linear")
            if math.isfinite(a) and math.isfinite(b):
                f1.append(a)
                f2.append(b)
    return (float(np.mean(f1)) if f1 else 0.0, float(np.mean(f2)) if f2 else 0.0)


def apply_all(chunks: Iterator[Audio], effects: Effects) -> Iterator[Audio]:
    """Effects on every chunk of a stream, lazily (streaming is kept)."""
    if effects.neutral:
        yield from chunks
        return
    for chunk in chunks:
        yield effects.apply(chunk)
