"""What the realtime tests share: clips at 24 kHz, a recorder of server events, real-time pacing."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from openai.types.realtime import RealtimeServerEvent
from pydantic import TypeAdapter

from revoice.audio import Audio
from tests.helpers import Clip

RATE = 24000
KEY = "realtime-test-key"
#: every server event must parse as one of the SDK's GA server events, strictly
SERVER_EVENT: TypeAdapter[Any] = TypeAdapter(RealtimeServerEvent)


def speech_only(clip: Clip) -> np.ndarray:
    """The clip at 16 kHz from its first speech to its last (Silero VAD), no silence around."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    samples = clip.audio.resample(16000).samples
    stamps = get_speech_timestamps(
        samples, VadOptions(min_silence_duration_ms=100, speech_pad_ms=30)
    )
    return samples[stamps[0]["start"] : stamps[-1]["end"]]


def split_at_pause(speech: np.ndarray, low: float = 0.4, high: float = 0.7) -> int:
    """Where to cut 16 kHz speech between two words: the quietest 30 ms between `low` and
    `high` of the way through."""
    frame = 480
    start, end = int(len(speech) * low) // frame, int(len(speech) * high) // frame
    energy = [float(np.mean(speech[i * frame : (i + 1) * frame] ** 2)) for i in range(start, end)]
    return (start + int(np.argmin(energy))) * frame + frame // 2


def joined(parts: list[np.ndarray | float]) -> Audio:
    """16 kHz speech pieces and pauses (seconds of silence), end to end."""
    pieces = [np.zeros(round(p * 16000), np.float32) if isinstance(p, float) else p for p in parts]
    return Audio(np.concatenate(pieces), 16000)


def pcm16(audio: Audio) -> bytes:
    """The audio as the GA default wire format: pcm16, 24 kHz, mono."""
    return audio.resample(RATE).to_int16().astype("<i2").tobytes()


def from_pcm16(data: bytes, rate: int = RATE) -> Audio:
    return Audio(np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0, rate)


@dataclass
class Recorder:
    """Every server event of a connection, with the time it arrived; waits for one."""

    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, event: dict[str, Any]) -> None:
        self.events.append((time.monotonic(), event))
        self._changed.set()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for _, e in self.events if e["type"] == kind]

    def types(self) -> list[str]:
        return [e["type"] for _, e in self.events]

    def when(self, event: dict[str, Any]) -> float:
        return next(t for t, e in self.events if e is event)

    async def wait(
        self,
        kind: str,
        timeout: float = 30.0,
        where: Callable[[dict[str, Any]], bool] = lambda e: True,
        after: int = 0,
    ) -> dict[str, Any]:
        """The first event of `kind` (from index `after`) that `where` accepts."""
        deadline = time.monotonic() + timeout
        while True:
            for _, event in self.events[after:]:
                if event["type"] == kind and where(event):
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} within {timeout:g} s; got {self.types()}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)


async def record(connection: Any, recorder: Recorder) -> None:
    """Read an SDK realtime connection's raw events into `recorder` until it closes."""
    import websockets

    try:
        while True:
            raw = json.loads(await connection.recv_bytes())
            SERVER_EVENT.validate_python(raw)  # the SDK's own GA shape, strictly
            recorder.add(raw)
    except websockets.ConnectionClosed:
        return


async def stream(connection: Any, audio: Audio, chunk_seconds: float = 0.1) -> None:
    """Append `audio` at real-time pace, `chunk_seconds` at a time (as a microphone would)."""
    data = pcm16(audio)
    step = round(chunk_seconds * RATE) * 2
    start = time.monotonic()
    for i, offset in enumerate(range(0, len(data), step)):
        chunk = base64.b64encode(data[offset : offset + step]).decode("ascii")
        await connection.input_audio_buffer.append(audio=chunk)
        wait = start + (i + 1) * chunk_seconds - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)


def audio_of(recorder: Recorder, response_id: str, rate: int = RATE) -> Audio:
    """The speech of a response: its output_audio deltas joined."""
    data = b"".join(
        base64.b64decode(e["delta"])
        for e in recorder.of("response.output_audio.delta")
        if e["response_id"] == response_id
    )
    return from_pcm16(data, rate)
