"""One Wyoming connection: describe, speech to text and text to speech, on the Pipeline.

Speech to text, as Home Assistant sends it: `transcribe` (language, model), `audio-start`,
`audio-chunk`..., `audio-stop`; answered with `transcript-start`, a `transcript-chunk` per
decoded segment, `transcript` (the whole text: all that older clients read) and
`transcript-stop`.

Text to speech: `synthesize` is answered with one `audio-start`, the speech in `audio-chunk`s
(sentence by sentence, as it is made) and one `audio-stop`. Streaming: `synthesize-start`,
`synthesize-chunk`..., `synthesize-stop`; each sentence is spoken as soon as it is complete
(its own `audio-start` ... `audio-stop`), then `synthesize-stopped`. The full-text `synthesize`
that Home Assistant repeats inside a stream, for older servers, is ignored.

A bad event (malformed, out of order, over a limit, naming an unknown voice) is answered with
an `error` event and the connection is closed, as Wyoming servers do: clients such as Home
Assistant open a connection per request and would otherwise wait for an answer that never
comes. Other connections, and the server, go on. Events this door does not handle are
dropped, as the protocol asks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, Eventable
from wyoming.info import Describe
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from revoice import codecs
from revoice import text as textsplit
from revoice.api.deps import Runtime
from revoice.audio import Audio
from revoice.errors import (
    BadEvent,
    EngineUnavailable,
    InputTooLarge,
    InvalidOption,
    RevoiceError,
    UnknownModel,
)
from revoice.types import TranscribeOptions, Voice
from revoice.wyoming_door import info

log = logging.getLogger("revoice.wyoming")
E = TypeVar("E", bound=Eventable)
#: the longest JSON `data` block an event may carry (an info event is the largest we send)
_MAX_DATA = 1 << 20


class Door(Protocol):
    """What every connection shares (see `revoice.wyoming_door.WyomingDoor`)."""

    runtime: Runtime
    broken: set[str]


@dataclass
class _Recording:
    """The audio of one `transcribe` request, as it arrives."""

    options: TranscribeOptions
    model: str | None
    rate: int
    parts: list[np.ndarray] = field(default_factory=list)
    samples: int = 0
    received: int = 0  # bytes


@dataclass
class _TextStream:
    """A streamed `synthesize-start` ... `synthesize-stop` request."""

    voice: Voice
    pending: str = ""
    characters: int = 0


async def read_event(reader: asyncio.StreamReader, max_payload: int) -> Event | None:
    """The next event, like `wyoming.event.async_read_event`, but refusing a declared data or
    payload length over the limits before reading it; None at the end of the stream."""
    try:
        line = await reader.readline()
    except ValueError:  # a header line longer than the reader's limit (64 KiB)
        raise BadEvent("an event header line is too long") from None
    if not line:
        return None
    try:
        header = json.loads(line)
    except ValueError:
        raise BadEvent("an event header is not JSON") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise BadEvent("an event header must be a JSON object with a 'type'")
    data = header.get("data") or {}
    data_length = _length(header, "data_length", _MAX_DATA)
    payload_length = _length(header, "payload_length", max_payload)
    if not isinstance(data, dict):
        raise BadEvent(f"the data of a {header['type']!r} event must be a JSON object")
    try:
        if data_length:
            extra = json.loads(await reader.readexactly(data_length))
            if not isinstance(extra, dict):
                raise BadEvent(f"the data of a {header['type']!r} event must be a JSON object")
            data.update(extra)
        payload = await reader.readexactly(payload_length) if payload_length else None
    except asyncio.IncompleteReadError:
        return None  # the client went away in the middle of an event
    except ValueError:
        raise BadEvent(f"the data of a {header['type']!r} event is not JSON") from None
    return Event(type=header["type"], data=data, payload=payload)


def _length(header: dict[str, Any], key: str, limit: int) -> int:
    value = header.get(key) or 0
    if not isinstance(value, int) or value < 0:
        raise BadEvent(f"{key} must be a byte count, not {value!r}")
    if value > limit:
        raise InputTooLarge(f"an event's {key} of {value} bytes is over the limit of {limit}")
    return value


def _parse(cls: type[E], event: Event) -> E:
    """The typed event, or `BadEvent` saying what is wrong with it."""
    try:
        parsed = cls.from_event(event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadEvent(f"malformed {event.type!r} event (missing or bad {exc})") from None
    assert isinstance(parsed, cls)
    return parsed


def _language(code: str | None) -> str | None:
    """A Wyoming language ('en', 'en-US', 'hi_IN') as Whisper's code ('en', 'hi')."""
    if not code:
        return None
    return code.replace("_", "-").split("-", 1)[0].strip().lower() or None


class RevoiceHandler(AsyncEventHandler):
    """Answers one client's events; each request's state lives here, per connection."""

    def __init__(
        self, door: Door, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        super().__init__(reader, writer)
        self.door = door
        self.runtime = door.runtime
        self.settings = door.runtime.settings
        self._transcribe: Transcribe | None = None
        self._recording: _Recording | None = None
        self._draining = False
        self._stream: _TextStream | None = None

    async def run(self) -> None:
        """Events until the client leaves, an event is refused, or the server stops."""
        self._is_running = True
        limits = self.settings.limits
        try:
            while self._is_running:
                try:
                    event = await read_event(self.reader, limits.max_upload_bytes)
                except RevoiceError as exc:
                    await self._refuse(exc)
                    break
                if event is None or not await self.handle_event(event):
                    break
        except OSError:
            pass  # the client went away
        finally:
            await self.disconnect()
            self.writer.close()

    async def handle_event(self, event: Event) -> bool:
        """Handle one event; False closes the connection (after an `error`)."""
        if self._draining:  # the rest of a recording refused as too long: read, then close
            if AudioChunk.is_type(event.type):
                return True
            self._draining = False
            return False
        try:
            await self._dispatch(event)
            return True
        except InputTooLarge as exc:
            await self._refuse(exc)
            if AudioChunk.is_type(event.type):
                # a client streaming from a microphone is still sending: take the rest of the
                # recording (unread) and close after its audio-stop, so it reads the error
                # instead of a reset connection
                self._recording = None
                self._draining = True
                return True
        except RevoiceError as exc:
            await self._refuse(exc)
        except OSError:
            pass  # the client went away while we answered
        except Exception:
            log.exception("Wyoming: %s event failed", event.type)
            await self._refuse(RevoiceError("internal error; see the server log"), "internal")
        return False

    async def _refuse(self, exc: RevoiceError, code: str | None = None) -> None:
        with suppress(OSError):  # the client may be gone
            await self.write_event(Error(text=str(exc.args[0]), code=code or exc.code).event())

    async def _dispatch(self, event: Event) -> None:
        kind = event.type
        if Describe.is_type(kind):
            pipeline = self.runtime.pipeline
            described = info.describe(self.settings, pipeline.catalogue, self.door.broken)
            await self.write_event(described.event())
        elif Ping.is_type(kind):
            await self.write_event(Pong(text=_parse(Ping, event).text).event())
        elif Transcribe.is_type(kind):
            self._transcribe = _parse(Transcribe, event)
        elif AudioStart.is_type(kind):
            start = _parse(AudioStart, event)
            self._recording = self._new_recording(start.rate, start.width, start.channels)
        elif AudioChunk.is_type(kind):
            self._add_audio(_parse(AudioChunk, event))
        elif AudioStop.is_type(kind):
            await self._finish_recording()
        elif SynthesizeStart.is_type(kind):
            start_stream = _parse(SynthesizeStart, event)
            self._stream = _TextStream(self._voice(start_stream.voice))
        elif SynthesizeChunk.is_type(kind):
            await self._stream_text(_parse(SynthesizeChunk, event).text)
        elif SynthesizeStop.is_type(kind):
            await self._stop_stream()
        elif Synthesize.is_type(kind) and self._stream is None:
            # inside a stream this is the whole text again, sent for older servers
            request = _parse(Synthesize, event)
            voice = self._voice(request.voice)
            await self._speak(self._sayable(request.text), voice)

    # speech to text

    def _new_recording(self, rate: int, width: int, channels: int) -> _Recording:
        codecs.decode_raw(b"", rate, width, channels)  # refuses a format it cannot read
        request = self._transcribe or Transcribe()
        self._transcribe = None
        options = TranscribeOptions(language=_language(request.language))
        return _Recording(options, self._model(request.name), rate)

    def _model(self, name: str | None) -> str | None:
        if not name or name == info.NAME:
            return None
        models = info.asr_models(self.settings)
        if name not in models:
            raise UnknownModel(name, models)
        return name

    def _add_audio(self, chunk: AudioChunk) -> None:
        if self._recording is None:  # audio without audio-start: take the chunk's format
            self._recording = self._new_recording(chunk.rate, chunk.width, chunk.channels)
        recording = self._recording
        limits = self.settings.limits
        recording.received += len(chunk.audio)
        if recording.received > limits.max_upload_bytes:
            raise InputTooLarge(f"the audio is over the limit of {limits.max_upload_bytes} bytes")
        samples = codecs.decode_raw(chunk.audio, chunk.rate, chunk.width, chunk.channels)
        if chunk.rate != recording.rate:
            samples = Audio(samples, chunk.rate).resample(recording.rate).samples
        recording.parts.append(samples)
        recording.samples += len(samples)
        if recording.samples > limits.max_audio_seconds * recording.rate:
            raise InputTooLarge(
                f"the audio is longer than the limit of {limits.max_audio_seconds:g} s"
            )

    async def _finish_recording(self) -> None:
        recording, self._recording = self._recording, None
        if recording is None:
            raise BadEvent("audio-stop without audio-start")
        samples = np.concatenate(recording.parts) if recording.parts else np.zeros(0, np.float32)
        audio = Audio(samples, recording.rate)
        rt = self.runtime
        stream = await rt.run(
            "asr", rt.pipeline.transcribe_stream, audio, recording.options, recording.model
        )
        texts: list[str] = []
        try:
            await self.write_event(TranscriptStart(language=stream.language).event())
            while (segment := await rt.run("asr", next, stream.segments, None)) is not None:
                if segment.text.strip():
                    delta = segment.text.strip() if not texts else f" {segment.text.strip()}"
                    texts.append(segment.text.strip())
                    await self.write_event(TranscriptChunk(text=delta).event())
        finally:
            close = getattr(stream.segments, "close", None)
            if close is not None:
                close()
        text = " ".join(texts)
        await self.write_event(Transcript(text=text, language=stream.language).event())
        await self.write_event(TranscriptStop().event())

    # text to speech

    def _voice(self, requested: SynthesizeVoice | None) -> Voice:
        pipeline = self.runtime.pipeline
        if requested is None or not (requested.name or requested.language):
            return pipeline.voice(None)
        if requested.name:
            if requested.speaker and f"{requested.name}/{requested.speaker}" in pipeline.catalogue:
                return pipeline.voice(f"{requested.name}/{requested.speaker}")
            return pipeline.voice(requested.name)
        language = _language(requested.language) or ""
        default = pipeline.voice(None)
        if language in default.languages:
            return default
        speaking = pipeline.catalogue.speaking(language)
        if not speaking:
            raise InvalidOption(f"no voice speaks {requested.language!r}", "language")
        return speaking[0]

    def _sayable(self, text: str) -> str:
        cleaned = textsplit.clean(text)
        if not any(ch.isalnum() for ch in cleaned):
            raise InvalidOption("the text has nothing to say (no letters or digits)", "text")
        limit = self.settings.limits.max_text_chars
        if len(cleaned) > limit:
            raise InputTooLarge(f"the text is longer than the limit of {limit} characters")
        return cleaned

    async def _stream_text(self, text: str) -> None:
        stream = self._stream
        if stream is None:
            raise BadEvent("synthesize-chunk without synthesize-start")
        stream.characters += len(text)
        limit = self.settings.limits.max_text_chars
        if stream.characters > limit:
            raise InputTooLarge(f"the text is longer than the limit of {limit} characters")
        ready, stream.pending = textsplit.take_sentences(stream.pending + text)
        if any(ch.isalnum() for ch in ready):
            await self._speak(ready, stream.voice)

    async def _stop_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            raise BadEvent("synthesize-stop without synthesize-start")
        if any(ch.isalnum() for ch in stream.pending):
            await self._speak(textsplit.clean(stream.pending), stream.voice)
        await self.write_event(SynthesizeStopped().event())

    async def _speak(self, text: str, voice: Voice) -> None:
        """`audio-start`, the speech of `text` in `audio-chunk`s as it is made, `audio-stop`.
        The first sentence is made before `audio-start`, so its errors come as `error`."""
        rt = self.runtime
        try:
            chunks: Iterator[Audio] = await rt.run(voice.engine, rt.pipeline.speak, text, voice)
            first = await rt.run(voice.engine, next, chunks, None)
        except EngineUnavailable:
            self.door.broken.add(voice.engine)  # `describe` stops offering its voices
            raise
        rate, width = voice.sample_rate, 2
        await self.write_event(AudioStart(rate=rate, width=width, channels=1).event())
        step = self.settings.wyoming.samples_per_chunk * width
        try:
            chunk = first
            while chunk is not None:
                data = chunk.resample(rate).to_int16().astype("<i2").tobytes()
                for offset in range(0, len(data), step):
                    piece = data[offset : offset + step]
                    event = AudioChunk(rate=rate, width=width, channels=1, audio=piece).event()
                    await self.write_event(event)
                chunk = await rt.run(voice.engine, next, chunks, None)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a client gone in the middle stops the engine's work
        await self.write_event(AudioStop().event())
