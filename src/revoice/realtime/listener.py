"""The listening half of a realtime session: the input audio buffer, turn detection, hearing.

Audio arrives in the session's input format and is kept at 16 kHz. With `server_vad` each
append runs the streaming VAD; speech starts a turn, enough silence ends it (and commits it).
While a turn is spoken its speech is transcribed again about every `partial_interval_seconds`
for stable partial transcripts; a committed turn is transcribed once more, its last words
sent, and the whole transcript handed to the conversation (`heard`), which may answer it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import anyio
import numpy as np
import soxr

from revoice.api.deps import Runtime
from revoice.audio import Audio
from revoice.errors import InputTooLarge, RevoiceError
from revoice.realtime import smart_turn
from revoice.realtime.buffer import InputBuffer
from revoice.realtime.formats import AudioFormat
from revoice.realtime.hearing import LiveTranscript
from revoice.realtime.items import Items, user_audio_item
from revoice.realtime.protocol import error_for, invalid, new_id
from revoice.realtime.recognition import Turn, recognize, running
from revoice.realtime.session import SessionConfig
from revoice.realtime.turns import StreamingVad, TurnDetector
from revoice.types import Transcript, Voice

RATE = 16000
MIN_COMMIT_MS = 100
MISSED_SECONDS = 1.0  # speech this long after the last word heard is decoded again
SPECULATE_MS = 200  # a pause this long starts the final decode early (capped at half the
# silence that ends a turn)
BURST_SECONDS = 30.0  # audio a client may send at once before the rate limit applies
Emit = Callable[[dict[str, Any]], Awaitable[None]]
Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


def _ms(samples: int) -> int:
    return samples * 1000 // RATE


class Hooks:
    """What the listener asks of its conversation."""

    async def interrupt(self) -> None:
        """Speech started (barge-in, when the session says so)."""

    def busy(self) -> bool:
        """Whether a response is in progress."""
        return False

    async def stable(self, item_id: str, text: str) -> None:
        """The stable transcript so far of the turn still being spoken (it only grows)."""

    async def heard(self, item_id: str, text: str, respond: bool) -> None:
        """A turn's whole transcript (the stable one it began as, and its last words);
        `respond` when turn detection asks for a response."""

    def lagged(self, seconds: float) -> None:
        """A turn's transcript came `seconds` after the turn was committed."""


class Listener:
    def __init__(self, rt: Runtime, emit: Emit, spawn: Spawn, items: Items, hooks: Hooks) -> None:
        self.rt = rt
        self.limits = rt.settings.realtime
        self._emit, self._spawn, self._items, self._hooks = emit, spawn, items, hooks
        self.config = SessionConfig()
        self.voice: Voice | None = None
        self._input = self._resampler(self.config.input_format)
        self._vad: StreamingVad | None = None
        self._detector: TurnDetector | None = None
        self._vad_origin = 0
        self._buffer = InputBuffer()
        self._quiet_since = 0
        self._item_id = new_id("item")  # the next user item
        self._turn: Turn | None = None
        self._finishing_tasks: set[asyncio.Task[None]] = set()
        self._finishing = asyncio.Lock()  # turns are transcribed and answered in order
        self._opened = time.monotonic()
        self._audio_seconds = 0.0

    def configure(self, config: SessionConfig, voice: Voice) -> None:
        """Take a (changed) session configuration."""
        old = self.config
        if config.input_format != old.input_format:
            self._input = self._resampler(config.input_format)
        if (old.turn_detection is None) != (config.turn_detection is None):
            self._drop_turn()
        self.config, self.voice = config, voice
        vad = config.turn_detection
        if vad is None:
            self._vad = self._detector = None
        elif self._detector is None:
            self._vad, self._detector = StreamingVad(), TurnDetector(vad)
            self._vad_origin = self._buffer.position
        else:
            self._detector.config = vad

    @staticmethod
    def _resampler(fmt: AudioFormat) -> Any:
        return soxr.ResampleStream(fmt.rate, RATE, 1, dtype="float32")

    # the buffer

    async def append(self, data: bytes) -> None:
        fmt = self.config.input_format
        samples = fmt.decode(data)
        self._check_rate(len(samples) / fmt.rate)
        limit = self.rt.settings.limits.max_audio_seconds
        if (self._buffer.size + len(samples) * RATE / fmt.rate) / RATE > limit:
            raise InputTooLarge(
                f"the input audio buffer holds at most {limit:g} s: commit or clear it", "audio"
            )
        pcm = self._input.resample_chunk(samples)
        if len(pcm) == 0:
            return
        self._buffer.append(pcm)
        if self._vad is not None and self._detector is not None:
            probabilities = await anyio.to_thread.run_sync(self._vad.push, pcm)
            for edge in self._detector.push(probabilities):
                sample = self._vad_origin + edge.sample
                if edge.kind == "started":
                    await self._speech_started(sample)
                else:
                    await self._speech_stopped(sample)
            if not self._detector.speaking:
                await self._idle()
            else:
                self._maybe_guess(self._detector)
                self._maybe_judge(self._detector)
        elif self._turn is None:
            self._turn = self._new_turn()
        self._maybe_partial()

    def _check_rate(self, seconds: float) -> None:
        rate = self.limits.max_audio_rate
        allowed = BURST_SECONDS + (time.monotonic() - self._opened) * rate
        if self._audio_seconds + seconds > allowed:
            raise invalid(
                f"audio is arriving faster than {rate:g}x real time; send it at its own pace",
                "audio",
                "rate_limit_exceeded",
            )
        self._audio_seconds += seconds

    def _new_turn(self) -> Turn:
        return Turn(self._item_id, LiveTranscript(self.limits.partial_window_seconds))

    def _drop_turn(self) -> None:
        if self._turn is not None and self._turn.job is not None:
            self._turn.job.cancel()
        self._turn = None

    async def commit(self) -> None:
        """`input_audio_buffer.commit` from the client."""
        if _ms(self._buffer.size) < MIN_COMMIT_MS:
            raise invalid(
                f"the input audio buffer is too small to commit: it holds "
                f"{_ms(self._buffer.size)} ms, at least {MIN_COMMIT_MS} ms are needed",
                code="input_audio_buffer_commit_empty",
            )
        await self._commit(respond=False)

    async def clear(self) -> None:
        self._drop_turn()
        self._buffer.reset()
        if self._detector is not None:
            self._detector.reset()
        await self._emit({"type": "input_audio_buffer.cleared"})

    async def _commit(self, respond: bool) -> None:
        samples = self._buffer.samples().copy()
        turn = self._turn or self._new_turn()
        turn.final_mark = self._mark()
        turn.committed_at = time.monotonic()
        self._turn = None
        self._buffer.reset()
        self._item_id = new_id("item")
        if self._detector is not None:
            self._detector.reset()
        previous = self._items.last
        item = user_audio_item(turn.item_id)
        self._items.add(item)
        committed = {"item_id": turn.item_id, "previous_item_id": previous}
        await self._emit({"type": "input_audio_buffer.committed", **committed})
        for kind in ("conversation.item.added", "conversation.item.done"):
            await self._emit({"type": kind, "previous_item_id": previous, "item": item})
        task = self._spawn(self._finish_turn(turn, samples, item, respond))
        self._finishing_tasks.add(task)
        task.add_done_callback(self._finishing_tasks.discard)

    def hearing(self) -> bool:
        """Whether committed speech is still being transcribed."""
        return bool(self._finishing_tasks)

    async def settled(self) -> None:
        """Wait until every committed turn's transcript is known."""
        while self._finishing_tasks:
            await asyncio.wait(set(self._finishing_tasks))

    # turn detection

    async def _speech_started(self, sample: int) -> None:
        vad = self.config.turn_detection
        assert vad is not None
        self._buffer.drop_before(
            max(self._buffer.start, sample - vad.prefix_padding_ms * RATE // 1000)
        )
        self._turn = self._new_turn()
        await self._emit(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": _ms(sample),
                "item_id": self._item_id,
            }
        )
        await self._hooks.interrupt()

    async def _speech_stopped(self, sample: int) -> None:
        await self._emit(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": _ms(sample),
                "item_id": self._item_id,
            }
        )
        self._quiet_since = self._buffer.position
        if self._turn is not None:
            self._turn.speech_end = max(0, sample - self._buffer.start)
        vad = self.config.turn_detection
        await self._commit(respond=vad is not None and vad.create_response)

    async def _idle(self) -> None:
        """Keep only the audio a next turn may need (its prefix padding), and fire
        `idle_timeout_ms` after that long without speech or a response."""
        vad = self.config.turn_detection
        assert vad is not None
        keep = (vad.prefix_padding_ms + 1000) * RATE // 1000
        if self._buffer.size > 2 * keep:
            self._buffer.drop_before(self._buffer.position - keep)
        if self._hooks.busy():
            self._quiet_since = self._buffer.position
        elif (
            vad.idle_timeout_ms
            and _ms(self._buffer.position - self._quiet_since) >= vad.idle_timeout_ms
        ):
            await self._emit(
                {
                    "type": "input_audio_buffer.timeout_triggered",
                    "audio_start_ms": _ms(self._quiet_since),
                    "audio_end_ms": _ms(self._buffer.position),
                    "item_id": self._item_id,
                }
            )
            self._quiet_since = self._buffer.position
            await self._commit(respond=vad.create_response)

    # hearing

    def _decode(self, audio: Audio, turn: Turn, last: bool = False) -> Transcript:
        return recognize(self.rt, self.config, self.voice, audio, turn, last)

    def _mark(self) -> int:
        """What has been heard so far, as a number that changes with new speech."""
        return self._detector.speech_windows if self._detector is not None else self._buffer.size

    def _maybe_partial(self) -> None:
        """A partial pass every `partial_interval_seconds` while speech goes on."""
        turn, interval = self._turn, self.limits.partial_interval_seconds
        if turn is None or not interval or running(turn.job):
            return
        if self._detector is not None and (
            not self._detector.speaking or self._detector.silence_ms
        ):
            return  # a pause: `_maybe_guess` decides
        window = self._buffer.size - turn.live.offset
        if window < RATE or window > 1.5 * self.limits.partial_window_seconds * RATE:
            return  # too little to say anything yet, or nothing stable to cut off: wait
        if time.monotonic() - turn.last_partial < interval:
            return
        turn.job = self._spawn(self._pass(turn, self._buffer.samples(), self._mark()))

    def _maybe_guess(self, detector: TurnDetector) -> None:
        """At a pause long enough to maybe end the turn, a pass at once: if the pause does end
        the turn, its hypothesis is the final one, and the wait at the end is shorter."""
        turn, vad = self._turn, self.config.turn_detection
        if turn is None or vad is None or turn.guess_mark == detector.speech_windows:
            return
        if running(turn.job):
            return  # a pass is still running: guess at the next append
        if detector.silence_ms < min(SPECULATE_MS, vad.silence_duration_ms // 2):
            return
        turn.guess_mark = detector.speech_windows
        turn.job = self._spawn(
            self._pass(turn, self._buffer.samples(), detector.speech_windows, last=True)
        )

    def _maybe_judge(self, detector: TurnDetector) -> None:
        """`semantic_vad`: at a pause, ask Smart Turn whether the turn sounds finished."""
        turn, vad = self._turn, self.config.turn_detection
        if turn is None or vad is None or vad.end_of_turn is None:
            return
        if detector.silence_ms < SPECULATE_MS or turn.judged_mark == detector.speech_windows:
            return
        turn.judged_mark = detector.speech_windows
        mark, cutoff = detector.speech_windows, vad.end_of_turn
        self._spawn(self._judge(turn, self._buffer.samples(), mark, cutoff))

    async def _judge(self, turn: Turn, samples: np.ndarray, mark: int, cutoff: float) -> None:
        probability = await anyio.to_thread.run_sync(smart_turn.finished, samples)
        detector = self._detector
        if probability < cutoff or turn is not self._turn or detector is None:
            return
        if detector.speech_windows != mark:
            return  # the person went on while Smart Turn listened
        edge = detector.end_now()
        if edge is not None:
            await self._speech_stopped(self._vad_origin + edge.sample)

    async def _pass(self, turn: Turn, samples: np.ndarray, mark: int, last: bool = False) -> None:
        """Decode the turn's window: its stable words go out as a delta, and the hypothesis is
        kept, to end the turn with if nothing is heard after it."""
        offset, audio = turn.live.window(samples)
        try:
            hypothesis = await self.rt.run("asr", self._decode, audio, turn, last)
        except RevoiceError:
            return  # the end of the turn reports it
        finally:
            turn.last_partial = time.monotonic()  # the next pass waits a whole interval
        turn.guess = (offset, mark, hypothesis)
        delta = turn.live.update(offset, hypothesis)
        if delta:
            await self._delta(turn.item_id, delta)
            await self._hooks.stable(turn.item_id, turn.live.text)

    async def _final(self, turn: Turn, samples: np.ndarray) -> str:
        """The last words of a committed turn (a delta): from the last pass if nothing was
        heard after it, else from a decode now."""
        if turn.guess is not None and turn.guess[1] == turn.final_mark:
            offset, _, transcript = turn.guess
        else:
            offset, audio = turn.live.window(samples)
            transcript = await self.rt.run("asr", self._decode, audio, turn, True)
        delta = turn.live.finish(offset, transcript)
        heard = turn.live.heard_until
        end = turn.speech_end or len(samples)
        if heard and end / RATE - heard > MISSED_SECONDS:
            # Whisper sometimes ends a window after its first sentence: hear the rest alone
            tail = round(max(heard - 0.1, 0.0) * RATE)
            rest = await self.rt.run("asr", self._decode, Audio(samples[tail:], RATE), turn, True)
            delta += turn.live.finish(tail, rest)
        return delta

    async def _delta(self, item_id: str, delta: str) -> None:
        await self._emit(
            {
                "type": "conversation.item.input_audio_transcription.delta",
                "item_id": item_id,
                "content_index": 0,
                "delta": delta,
            }
        )

    async def _finish_turn(
        self, turn: Turn, samples: np.ndarray, item: dict[str, Any], respond: bool
    ) -> None:
        async with self._finishing:
            if turn.job is not None:
                await asyncio.wait({turn.job})  # a partial's words come before the last ones
            try:
                delta = await self._final(turn, samples)
            except RevoiceError as exc:
                await self._emit(
                    {
                        "type": "conversation.item.input_audio_transcription.failed",
                        "item_id": turn.item_id,
                        "content_index": 0,
                        "error": error_for(exc)["error"],
                    }
                )
                return
            if delta:
                await self._delta(turn.item_id, delta)
            self._hooks.lagged(time.monotonic() - turn.committed_at)
            text = turn.live.text
            item["content"][0]["transcript"] = text
            await self._emit(
                {
                    "type": "conversation.item.input_audio_transcription.completed",
                    "item_id": turn.item_id,
                    "content_index": 0,
                    "transcript": text,
                    "usage": {"type": "duration", "seconds": round(len(samples) / RATE, 3)},
                }
            )
            await self._hooks.heard(turn.item_id, text, respond)
