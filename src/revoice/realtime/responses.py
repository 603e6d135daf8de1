"""One response of a realtime session: what to say, said in the session's voice.

The words come from the Pipeline's text step (the transcript itself, a translation made by
recognition, or a reply), the speech from `Pipeline.speak`, so custom voices keep their pitch,
formant and volume. Audio is sent in short deltas, no faster than `output_lead_seconds` ahead
of real time, so a barge-in or a truncation lands where the listener is. A cancelled response
sends its closing events at once; the words being synthesised are dropped.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import soxr

from revoice.api.deps import Runtime
from revoice.audio import Audio
from revoice.errors import RevoiceError
from revoice.pipeline import TextMode
from revoice.realtime.formats import AudioFormat
from revoice.realtime.protocol import new_id
from revoice.types import SynthesisOptions, Voice

log = logging.getLogger("revoice.realtime")
Emit = Callable[[dict[str, Any]], Awaitable[None]]
DELTA_SECONDS = 0.2  # audio per response.output_audio.delta


@dataclass(frozen=True)
class Request:
    """What a response is asked to do."""

    source: str  # the words heard (or given) that the response answers
    voice: Voice
    audio: bool  # speak (output_audio) or only write (output_text)
    fmt: AudioFormat
    speed: float | None
    mode: TextMode
    instruction: str | None
    conversation_id: str


class Response:
    """A response in progress; `run()` makes it, `cancel()` ends it early."""

    def __init__(self, rt: Runtime, request: Request, emit: Emit, lead_seconds: float) -> None:
        self.rt = rt
        self.request = request
        self.id = new_id("resp")
        self.item_id = new_id("item")
        self._emit = emit
        self._lead = lead_seconds
        self._playback: float | None = None  # when the first audio delta went out
        self.closed = False  # once set, nothing more of this response is sent
        self.status = "in_progress"
        self.text = ""
        self.samples_sent = 0
        self.truncated_ms: int | None = None  # where the client stopped playing it
        self._ending = False  # the closing events of a finished response are on their way
        self._item_started = False
        self.task: asyncio.Task[None] | None = None

    @property
    def audio_ms(self) -> int:
        return self.samples_sent * 1000 // self.request.fmt.rate

    def _shape(self, status: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
        req = self.request
        item_status = "completed" if status == "completed" else "incomplete"
        output = [self.item(item_status)] if self._item_started else []
        return {
            "id": self.id,
            "object": "realtime.response",
            "status": status,
            "status_details": details,
            "output": output,
            "conversation_id": req.conversation_id,
            "output_modalities": ["audio" if req.audio else "text"],
            "audio": {"output": {"format": req.fmt.describe(), "voice": req.voice.id}},
            "max_output_tokens": "inf",
            "metadata": None,
            "usage": None,
        }

    def item(self, status: str = "completed") -> dict[str, Any]:
        if self.request.audio:
            content = [{"type": "output_audio", "transcript": self.text}]
        else:
            content = [{"type": "output_text", "text": self.text}]
        return {
            "id": self.item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": content,
        }

    def _where(self) -> dict[str, Any]:
        return {
            "response_id": self.id,
            "item_id": self.item_id,
            "output_index": 0,
            "content_index": 0,
        }

    async def send(self, event: dict[str, Any], force: bool = False) -> None:
        """Send an event of this response (none once closed, but the closing ones)."""
        if force or not self.closed:
            await self._emit(event)

    async def run(self, previous_item_id: str | None) -> None:
        await self.send({"type": "response.created", "response": self._shape("in_progress")})
        try:
            self.text = await self._words()
            if self.text:
                await self._start_item(previous_item_id)
                if self.request.audio:
                    await self._speak()
                else:
                    await self.send(
                        {"type": "response.output_text.delta", **self._where(), "delta": self.text}
                    )
                self._ending = True
                await self._end_item("completed")
            self._ending = True
            await self._finish("completed")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not isinstance(exc, RevoiceError):
                log.exception("realtime response failed")
            message = str(exc) if isinstance(exc, RevoiceError) else "internal error"
            code = exc.code if isinstance(exc, RevoiceError) else "internal_error"
            details = {
                "type": "failed",
                "error": {"type": "server_error", "code": code, "message": message},
            }
            if self._item_started:
                await self._end_item("incomplete")
            await self._finish("failed", details)

    async def cancel(self, reason: str) -> None:
        """End now (`reason`: turn_detected or client_cancelled), closing events first."""
        if self.closed or self._ending:
            return
        self.closed = True  # the run task sends nothing more from here
        if self.task is not None:
            self.task.cancel()
        if self._item_started:
            await self._end_item("incomplete", force=True)
        await self._finish("cancelled", {"type": "cancelled", "reason": reason}, force=True)

    async def _words(self) -> str:
        req = self.request
        if req.mode != "reply" and not req.instruction:
            return req.source.strip()
        text: str = await self.rt.run(
            "text", self.rt.pipeline.text_step, req.source, req.mode, req.instruction
        )
        return text.strip()

    async def _start_item(self, previous_item_id: str | None) -> None:
        self._item_started = True
        item = self.item("in_progress")
        item["content"] = []
        await self.send(
            {
                "type": "response.output_item.added",
                "response_id": self.id,
                "output_index": 0,
                "item": item,
            }
        )
        await self.send(
            {"type": "conversation.item.added", "previous_item_id": previous_item_id, "item": item}
        )
        part = (
            {"type": "audio", "transcript": ""}
            if self.request.audio
            else {"type": "text", "text": ""}
        )
        await self.send({"type": "response.content_part.added", **self._where(), "part": part})

    async def _speak(self) -> None:
        req, rt = self.request, self.rt
        await self.send(
            {"type": "response.output_audio_transcript.delta", **self._where(), "delta": self.text}
        )
        engine = req.voice.engine
        options = SynthesisOptions(speed=req.speed)
        speech: Iterator[Audio] = await rt.run(
            engine, rt.pipeline.speak, self.text, req.voice, options
        )
        resampler = soxr.ResampleStream(req.voice.sample_rate, req.fmt.rate, 1, dtype="float32")
        try:
            while (chunk := await rt.run(engine, next, speech, None)) is not None:
                await self._send_audio(resampler.resample_chunk(chunk.samples))
            await self._send_audio(resampler.resample_chunk(np.zeros(0, np.float32), last=True))
        finally:
            close = getattr(speech, "close", None)
            if close is not None:
                # cancelled (barge-in, a closed socket) while a worker thread makes the next
                # chunk, the generator cannot be closed while it runs ("generator already
                # executing"): it is closed when that chunk is done and nothing holds it
                with contextlib.suppress(ValueError):
                    close()

    async def _send_audio(self, samples: np.ndarray) -> None:
        """Send in short deltas, at most `lead` seconds ahead of playback, which starts when
        the first delta arrives (not when synthesis began: a slow first chunk must not let
        the rest out at once, or truncating it at the playback point would mean nothing)."""
        step = max(1, round(DELTA_SECONDS * self.request.fmt.rate))
        for start in range(0, len(samples), step):
            piece = samples[start : start + step]
            if self._playback is None:
                self._playback = time.monotonic()
            played = time.monotonic() - self._playback
            ahead = self.samples_sent / self.request.fmt.rate - played
            if ahead > self._lead:
                await asyncio.sleep(ahead - self._lead)
            data = base64.b64encode(self.request.fmt.encode(piece)).decode("ascii")
            await self.send({"type": "response.output_audio.delta", **self._where(), "delta": data})
            self.samples_sent += len(piece)

    async def _end_item(self, status: str, force: bool = False) -> None:
        where = self._where()

        async def send(event: dict[str, Any]) -> None:
            await self.send(event, force)

        if self.request.audio:
            await send({"type": "response.output_audio.done", **where})
            await send(
                {"type": "response.output_audio_transcript.done", **where, "transcript": self.text}
            )
            part = {"type": "audio", "transcript": self.text}
        else:
            await send({"type": "response.output_text.done", **where, "text": self.text})
            part = {"type": "text", "text": self.text}
        await send({"type": "response.content_part.done", **where, "part": part})
        item = self.item(status)
        await send(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": 0,
                "item": item,
            }
        )
        await send({"type": "conversation.item.done", "item": item})

    async def _finish(
        self, status: str, details: dict[str, Any] | None = None, force: bool = False
    ) -> None:
        self.status = status
        event = {"type": "response.done", "response": self._shape(status, details)}
        await self.send(event, force)
        self.closed = True
