"""The one audio value type used at every boundary, and resampling.

Everything inside revoice is an `Audio`: float32 mono samples in [-1, 1] plus a sample rate.
Decoding and encoding live in `revoice.codecs`, at the edges.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import soxr


@dataclass(frozen=True, eq=False)
class Audio:
    """Mono float32 audio in [-1, 1] at `sample_rate` Hz."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, not {self.sample_rate}")
        data = np.asarray(self.samples, dtype=np.float32)
        if data.ndim != 1:
            raise ValueError(f"Audio samples must be 1-D (mono), got shape {data.shape}")
        if not np.isfinite(data).all():
            data = np.nan_to_num(data, nan=0.0, posinf=1.0, neginf=-1.0)
        object.__setattr__(self, "samples", data)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    def __len__(self) -> int:
        return len(self.samples)

    def resample(self, sample_rate: int) -> Audio:
        """This audio at another rate (soxr, high quality); itself when the rate already matches."""
        if sample_rate == self.sample_rate or len(self.samples) == 0:
            return Audio(self.samples, sample_rate) if sample_rate != self.sample_rate else self
        out = soxr.resample(self.samples, self.sample_rate, sample_rate, quality="HQ")
        return Audio(np.asarray(out, dtype=np.float32), sample_rate)

    def to_int16(self) -> np.ndarray:
        """Samples as 16-bit PCM (clipped)."""
        return (np.clip(self.samples, -1.0, 1.0) * 32767.0).astype(np.int16)

    def rms(self) -> float:
        """Root mean square level (0 for empty audio)."""
        if len(self.samples) == 0:
            return 0.0
        return float(np.sqrt(np.mean(np.square(self.samples, dtype=np.float64))))

    @staticmethod
    def silence(seconds: float, sample_rate: int) -> Audio:
        return Audio(np.zeros(round(seconds * sample_rate), dtype=np.float32), sample_rate)

    @staticmethod
    def concat(chunks: Iterable[Audio], sample_rate: int | None = None) -> Audio:
        """Join chunks end to end, resampling each to `sample_rate` (default: the first chunk's)."""
        parts = list(chunks)
        if not parts:
            return Audio(np.zeros(0, dtype=np.float32), sample_rate or 16000)
        rate = sample_rate or parts[0].sample_rate
        return Audio(np.concatenate([p.resample(rate).samples for p in parts]), rate)
