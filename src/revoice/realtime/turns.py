"""Turn detection for a live stream: Silero VAD run incrementally, and `server_vad` on top.

The Silero VAD model ships inside faster-whisper (`faster_whisper.vad`, offline). Its ONNX
graph takes a batch of 512-sample windows (16 kHz), each with the 64 samples before it, and
the LSTM state; carrying that state from call to call gives exactly the probabilities of one
pass over the whole stream, at about 3 ms of one core per second of audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

RATE = 16000
WINDOW = 512  # samples per VAD decision: 32 ms
_CONTEXT = 64
WINDOW_MS = WINDOW * 1000 // RATE


class StreamingVad:
    """Speech probability of each 32 ms window of a 16 kHz stream fed in pieces of any size."""

    def __init__(self, model: Any = None) -> None:
        if model is None:
            from faster_whisper.vad import get_vad_model

            model = get_vad_model()  # one ONNX session per process (lru_cache), thread-safe
        self._session = model.session
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """The probabilities of the whole windows completed by `samples` (maybe none)."""
        data = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        whole = len(data) // WINDOW * WINDOW
        self._pending = data[whole:]
        if not whole:
            return np.zeros(0, dtype=np.float32)
        windows = data[:whole].reshape(-1, WINDOW)
        before = np.concatenate([self._context[None, :], windows[:-1, -_CONTEXT:]], axis=0)
        self._context = windows[-1, -_CONTEXT:].copy()
        batch = np.concatenate([before, windows], axis=1)
        out, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        return np.asarray(out, dtype=np.float32).reshape(-1)


@dataclass(frozen=True)
class ServerVad:
    """OpenAI's `server_vad` settings (defaults as OpenAI documents them)."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True
    idle_timeout_ms: int | None = None
    #: speech this long (in a row) starts a turn: a click or a breath does not
    min_speech_ms: int = 96
    #: `semantic_vad`: at a pause, Smart Turn's probability that the turn is finished ends it
    #: when at least this; `silence_duration_ms` is then the longest pause a turn may hold
    end_of_turn: float | None = None


@dataclass(frozen=True)
class Edge:
    """Speech started or stopped, at a sample index of the stream (16 kHz)."""

    kind: Literal["started", "stopped"]
    sample: int

    @property
    def ms(self) -> int:
        return self.sample * 1000 // RATE


class TurnDetector:
    """Speech start and end from window probabilities, with hysteresis.

    A turn starts after `min_speech_ms` of windows at or above `threshold` (at the first of
    them); it ends once `silence_duration_ms` of windows below `threshold - 0.15` follow (at
    the end of the last speech), so a short pause inside a sentence does not end it.
    """

    def __init__(self, config: ServerVad) -> None:
        self.config = config
        self.speaking = False
        self._window = 0  # index of the next window
        self._run = 0  # windows in the current run of speech (idle) or silence (speaking)
        self._run_start = 0
        #: windows of speech heard while speaking: it changes when a pause is broken
        self.speech_windows = 0

    @property
    def silence_ms(self) -> int:
        """How long the pause in the speech has lasted so far (0 while speech goes on)."""
        return self._run * WINDOW_MS if self.speaking else 0

    def end_now(self) -> Edge | None:
        """End the turn at the pause in progress (Smart Turn heard a finished turn)."""
        if not self.speaking or not self._run:
            return None
        self.speaking, self._run = False, 0
        return Edge("stopped", self._run_start * WINDOW)

    def reset(self) -> None:
        """Forget the speech in progress (the buffer was committed or cleared)."""
        self.speaking, self._run = False, 0

    def push(self, probabilities: np.ndarray) -> list[Edge]:
        cfg = self.config
        low = max(cfg.threshold - 0.15, 0.01)
        start_windows = max(1, -(-cfg.min_speech_ms // WINDOW_MS))
        stop_windows = max(1, -(-cfg.silence_duration_ms // WINDOW_MS))
        edges: list[Edge] = []
        for p in probabilities.tolist():
            index = self._window
            self._window += 1
            if not self.speaking:
                if p >= cfg.threshold:
                    if self._run == 0:
                        self._run_start = index
                    self._run += 1
                    if self._run >= start_windows:
                        self.speaking, self._run = True, 0
                        edges.append(Edge("started", self._run_start * WINDOW))
                else:
                    self._run = 0
            elif p >= cfg.threshold:
                self._run = 0
                self.speech_windows += 1
            elif p < low or self._run:
                if self._run == 0:
                    self._run_start = index
                self._run += 1
                if self._run >= stop_windows:
                    self.speaking, self._run = False, 0
                    edges.append(Edge("stopped", self._run_start * WINDOW))
        return edges
