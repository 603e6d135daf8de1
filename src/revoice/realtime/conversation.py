"""One realtime session: its configuration, the conversation's items, and responses.

Client events go in through `handle`, server events come out through the `send` callback.
The listening half (input buffer, turn detection, transcription) is `listener.Listener`;
speaking is `responses.Response`. Recognition and speech go through
`revoice.pipeline.Pipeline`, each blocking call in a worker thread within the app's
per-engine limits (`Runtime.run`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import anyio

from revoice.api.deps import Runtime
from revoice.errors import RevoiceError, UnknownVoice
from revoice.realtime import smart_turn
from revoice.realtime.hearing import sentences_end
from revoice.realtime.items import Items
from revoice.realtime.listener import Hooks, Listener
from revoice.realtime.protocol import error_for, invalid, new_id
from revoice.realtime.recognition import asr_model
from revoice.realtime.responses import Request, Response
from revoice.realtime.session import SessionConfig, apply_update
from revoice.types import TranscribeOptions, Voice

log = logging.getLogger("revoice.realtime")
#: OpenAI's realtime-only voice names: the default voice speaks for them
REALTIME_ONLY_VOICES = frozenset({"ash", "ballad", "coral", "sage", "verse", "marin", "cedar"})
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Conversation(Hooks):
    def __init__(
        self,
        rt: Runtime,
        send: Send,
        model: str | None = None,
        on_lag: Callable[[float], None] | None = None,
    ) -> None:
        self.rt = rt
        self._on_lag = on_lag
        self.pipeline = rt.pipeline
        self.limits = rt.settings.realtime
        self._send = send
        self.config = SessionConfig(model=model or "gpt-realtime")
        self.voice = self.pipeline.voice(None)
        self.items = Items()
        self._response: Response | None = None
        self._creating: asyncio.Task[None] | None = None  # a response.create that waits
        self._tasks: set[asyncio.Task[None]] = set()
        self._live_item: str | None = None  # the turn whose sentences are said as they come
        self._live_said = 0  # how much of that turn's stable text is said (or on its way)
        self._live_tail: asyncio.Task[None] | None = None  # the last sentence queued
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
            "session.update": self._session_update,
            "input_audio_buffer.append": self._append,
            "input_audio_buffer.commit": self._commit_event,
            "input_audio_buffer.clear": self._clear,
            "conversation.item.create": self._item_create,
            "conversation.item.retrieve": self._item_retrieve,
            "conversation.item.delete": self._item_delete,
            "conversation.item.truncate": self._truncate,
            "response.create": self._response_create,
            "response.cancel": self._response_cancel,
        }
        self.listener = Listener(rt, self.emit, self._spawn, self.items, self)
        self.listener.configure(self.config, self.voice)

    # plumbing

    async def emit(self, event: dict[str, Any]) -> None:
        await self._send({"event_id": new_id("event"), **event})

    async def start(self) -> None:
        await self.emit({"type": "session.created", "session": self.describe()})

    def describe(self) -> dict[str, Any]:
        return self.config.describe(self.voice.id)

    async def handle(self, event: dict[str, Any]) -> None:
        """Act on one (well-formed) client event; its errors become `error` events."""
        try:
            await self._handlers[event["type"]](event)
        except RevoiceError as exc:
            await self.emit(error_for(exc, event.get("event_id")))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not isinstance(exc, RevoiceError):
                log.exception("realtime session task failed")
            await self.emit(error_for(exc))

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # the session

    async def _session_update(self, event: dict[str, Any]) -> None:
        new = apply_update(self.config, event.get("session"))
        voice = self._resolve_voice(new.voice)
        # a bad language or model fails here, not at the first words
        TranscribeOptions(language=new.language)
        asr_model(self.rt, new.transcription_model)
        if new.turn_detection is not None and new.turn_detection.end_of_turn is not None:
            await anyio.to_thread.run_sync(smart_turn.load)  # semantic_vad needs Smart Turn
        self.listener.configure(new, voice)
        if (new.mode == "reply" or new.instruction) and not (
            self.config.mode == "reply" or self.config.instruction
        ):
            self._spawn(self._load_text_model())
        self.config, self.voice = new, voice
        await self.emit({"type": "session.updated", "session": self.describe()})

    async def _load_text_model(self) -> None:
        """A session that will need the text step loads its model now, while the person
        speaks, not at the first answer (SmolLM2 takes half a minute to load on 2 cores)."""

        def load() -> None:
            self.rt.pipeline.models.text().load()

        with contextlib.suppress(Exception):  # a missing extra is reported at the answer
            await anyio.to_thread.run_sync(load)

    def _resolve_voice(self, name: str | None) -> Voice:
        try:
            return self.pipeline.voice(name)
        except UnknownVoice:
            if name and name.strip().lower() in REALTIME_ONLY_VOICES:
                return self.pipeline.voice(None)
            raise

    # the input audio buffer

    async def _append(self, event: dict[str, Any]) -> None:
        audio = event.get("audio")
        if not isinstance(audio, str):
            raise invalid("input_audio_buffer.append needs 'audio', base64 audio", "audio")
        try:
            data = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError):
            raise invalid("audio is not valid base64", "audio", "invalid_value") from None
        await self.listener.append(data)

    async def _commit_event(self, event: dict[str, Any]) -> None:
        await self.listener.commit()

    async def _clear(self, event: dict[str, Any]) -> None:
        await self.listener.clear()

    # what the listener asks

    async def interrupt(self) -> None:
        vad, response = self.config.turn_detection, self._response
        if self._live():
            return  # the person's own words, said as they go on talking: no barge-in
        if vad is not None and vad.interrupt_response and response is not None:
            await response.cancel("turn_detected")  # barge-in

    def busy(self) -> bool:
        if self._creating is not None and not self._creating.done():
            return True
        if self._live_tail is not None and not self._live_tail.done():
            return True
        return self._response is not None and not self._response.closed

    def lagged(self, seconds: float) -> None:
        if self._on_lag is not None:
            self._on_lag(seconds)

    def _live(self) -> bool:
        """Whether this session says each sentence as soon as it is heard (`revoice.live`):
        re-speak or translate, with turn detection that makes the responses."""
        cfg, vad = self.config, self.config.turn_detection
        return (
            cfg.live
            and cfg.kind == "realtime"
            and cfg.mode != "reply"
            and not cfg.instruction
            and vad is not None
            and vad.create_response
        )

    async def stable(self, item_id: str, text: str) -> None:
        """Live: each whole sentence of the turn's stable words becomes a response at once,
        while the person goes on talking (a live voice changer)."""
        if not self._live():
            return
        if item_id != self._live_item:
            self._live_item, self._live_said = item_id, 0
        end = sentences_end(text, self._live_said)
        if end > self._live_said:
            words = text[self._live_said : end].strip()
            self._live_said = end
            self._say_in_order(words)

    def _say_in_order(self, words: str) -> None:
        """A response saying `words` once the responses queued before it are done."""
        before = self._live_tail

        async def say() -> None:
            if before is not None:
                await asyncio.wait({before})
            previous = self._response
            if previous is not None and previous.task is not None and not previous.closed:
                await asyncio.wait({previous.task})
            response = self._respond(words)
            if response.task is not None:
                await asyncio.wait({response.task})

        self._live_tail = self._spawn(say())

    async def heard(self, item_id: str, text: str, respond: bool) -> None:
        if item_id == self._live_item:  # its first sentences were said while it was spoken
            text, self._live_item = text[self._live_said :].strip(), None
        if not (respond and text and self.config.kind == "realtime"):
            return
        if self._live_tail is not None and not self._live_tail.done():
            self._say_in_order(text)
            return
        previous = self._response
        if previous is not None and previous.task is not None and not previous.closed:
            await asyncio.wait({previous.task})  # one response at a time, in order
        self._respond(text)

    # responses

    def _respond(
        self, source: str, voice: Voice | None = None, audio: bool | None = None
    ) -> Response:
        cfg = self.config
        request = Request(
            source=source,
            voice=voice or self.voice,
            audio="audio" in cfg.output_modalities if audio is None else audio,
            fmt=cfg.output_format,
            speed=cfg.speed,
            mode=cfg.mode,
            instruction=cfg.instruction,
            conversation_id=self.items.conversation_id,
        )
        response = Response(self.rt, request, self.emit, self.limits.output_lead_seconds)
        self._response = response
        previous = self.items.last
        self.items.add_response(response)
        response.task = self._spawn(response.run(previous))
        return response

    async def _response_create(self, event: dict[str, Any]) -> None:
        if self.config.kind != "realtime":
            raise invalid("a transcription session makes no responses", "type")
        if self.busy():
            active = self._response.id if self._response is not None else "being made"
            raise invalid(
                f"the conversation already has a response in progress ({active})",
                code="conversation_already_has_active_response",
            )
        params = event.get("response") or {}
        if not isinstance(params, dict):
            raise invalid("response must be an object", "response")
        voice = None
        spoken = (
            (params.get("audio") or {}).get("output", {})
            if isinstance(params.get("audio"), dict)
            else {}
        )
        if isinstance(spoken, dict) and spoken.get("voice") is not None:
            voice = self._resolve_voice(str(spoken["voice"]))
        modalities = params.get("output_modalities")
        audio = None if not isinstance(modalities, list) else "audio" in modalities
        if not self.listener.hearing():
            self._answer(params.get("input"), voice, audio)
            return
        # committed speech is still being transcribed: answer it once its words are known
        self._creating = self._spawn(self._answer_later(params, voice, audio, event))

    async def _answer_later(
        self, params: dict[str, Any], voice: Voice | None, audio: bool | None, event: Any
    ) -> None:
        await self.listener.settled()
        try:
            self._answer(params.get("input"), voice, audio)
        except RevoiceError as exc:
            await self.emit(error_for(exc, event.get("event_id")))

    def _answer(self, given: Any, voice: Voice | None, audio: bool | None) -> None:
        source = self.items.words_to_answer(given)
        if source is None:
            raise invalid("there is nothing to respond to: no user message in the conversation")
        self._respond(source, voice, audio)

    async def _response_cancel(self, event: dict[str, Any]) -> None:
        response, wanted = self._response, event.get("response_id")
        if response is None or response.closed:
            raise invalid(
                "there is no response in progress to cancel", code="response_cancel_not_active"
            )
        if wanted and wanted != response.id:
            raise invalid(f"no response {wanted!r} is in progress", "response_id")
        await response.cancel("client_cancelled")

    # items

    async def _item_create(self, event: dict[str, Any]) -> None:
        previous = event.get("previous_item_id") or self.items.last
        item = self.items.create(event.get("item"))
        for kind in ("conversation.item.added", "conversation.item.done"):
            await self.emit({"type": kind, "previous_item_id": previous, "item": item})

    async def _item_retrieve(self, event: dict[str, Any]) -> None:
        item = self.items.get(event.get("item_id"))
        await self.emit({"type": "conversation.item.retrieved", "item": item})

    async def _item_delete(self, event: dict[str, Any]) -> None:
        item_id = self.items.delete(event.get("item_id"))
        await self.emit({"type": "conversation.item.deleted", "item_id": item_id})

    async def _truncate(self, event: dict[str, Any]) -> None:
        response, index, end_ms = self.items.truncation(event)
        if not response.closed:
            await response.cancel("client_cancelled")
        await self.emit(
            {
                "type": "conversation.item.truncated",
                "item_id": response.item_id,
                "content_index": index,
                "audio_end_ms": end_ms,
            }
        )
