"""The input audio buffer of a realtime session: 16 kHz samples since the last commit."""

from __future__ import annotations

import numpy as np


class InputBuffer:
    """Audio appended since the last commit or clear, on the session's clock.

    `position` counts every sample ever appended (the clock `audio_start_ms` and
    `audio_end_ms` are read on); `start` is where the buffer's first sample sits on it.
    """

    def __init__(self) -> None:
        self.position = 0
        self.start = 0
        self.size = 0
        self._chunks: list[np.ndarray] = []

    def append(self, samples: np.ndarray) -> None:
        self._chunks.append(samples)
        self.size += len(samples)
        self.position += len(samples)

    def samples(self) -> np.ndarray:
        """Everything buffered, as one array (joined once, then kept joined)."""
        if len(self._chunks) != 1:
            joined = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
            self._chunks = [joined]
        return self._chunks[0]

    def drop_before(self, sample: int) -> None:
        """Forget the audio before `sample` (a position on the session's clock)."""
        cut = sample - self.start
        if cut > 0:
            self._chunks = [self.samples()[cut:]]
            self.start += cut
            self.size -= cut

    def reset(self) -> None:
        self._chunks, self.size, self.start = [], 0, self.position
