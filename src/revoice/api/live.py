"""Voice to voice as server-sent events: the transcript and the speech as they are made.

`POST /v1/audio/voice-to-voice` with `stream_format=sse` answers with events, in order:

- `transcript.text.delta` `{"delta", "segment": {"id", "start", "end"}}` for each segment heard;
- `speech.audio.delta` `{"audio"}`: base64 bytes of the speech in `response_format`, each
  sentence's audio sent as soon as it is spoken (the deltas joined are one audio file);
- `speech.audio.done` `{"transcript", "text", "language", "voice", "format", "sample_rate"}`.

Without a text step each sentence is spoken as soon as it is heard, while the rest of the
recording is still being transcribed. With one (`mode=reply`, an `instruction`), the transcript
comes first, then the text model writes what is said (in a text slot, not the voice's) and
the voice says it. The first event is made before the response starts,
so early errors keep their status.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any

from revoice.api.deps import Runtime
from revoice.audio import Audio
from revoice.codecs import Format, StreamEncoder
from revoice.types import Segment, Voice

Part = Segment | Iterator[Audio]


def _sse(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n"


class LiveEvents:
    """The event stream of one voice-to-voice request."""

    def __init__(
        self,
        rt: Runtime,
        voice: Voice,
        parts: Iterator[Part],
        fmt: Format,
        summary: Any,
        write: Callable[[], object] | None = None,
    ) -> None:
        self._rt = rt
        # the text step (a reply or rewrite), run before the speech within the text model's
        # limit: left to the speech's first chunk, it would run in a TTS slot
        self._write = write
        self._voice = voice
        self._parts = parts
        self._fmt = fmt
        self._encoder = StreamEncoder(fmt, voice.sample_rate, streaming=True)
        self._summary = summary  # () -> (transcript, text, language), once the parts are done
        self._events = self._generate()
        self._first: str | None = None

    async def _generate(self) -> AsyncGenerator[str, None]:
        first_text = True
        while (part := await self._rt.run("asr", next, self._parts, None)) is not None:
            if isinstance(part, Segment):
                delta = part.text if first_text else f" {part.text}"
                first_text = False
                segment = {"id": part.id, "start": part.start, "end": part.end}
                yield _sse({"type": "transcript.text.delta", "delta": delta, "segment": segment})
                continue
            if self._write is not None:
                await self._rt.run("text", self._write)
                self._write = None
            engine = self._voice.engine
            try:
                while (chunk := await self._rt.run(engine, next, part, None)) is not None:
                    data = self._encoder.push(chunk)
                    if data:
                        yield self._audio(data)
            finally:
                close = getattr(part, "close", None)
                if close is not None:
                    close()
        tail = self._encoder.close()
        if tail:
            yield self._audio(tail)
        transcript, text, language = self._summary()
        yield _sse(
            {
                "type": "speech.audio.done",
                "transcript": transcript,
                "text": text,
                "language": language,
                "voice": self._voice.id,
                "format": self._fmt.name,
                "sample_rate": self._fmt.rate_for(self._voice.sample_rate),
            }
        )

    @staticmethod
    def _audio(data: bytes) -> str:
        return _sse({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})

    async def prime(self) -> None:
        """Make the first event now, so its errors surface before the response starts."""
        try:
            self._first = await anext(self._events)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        await self._events.aclose()
        close = getattr(self._parts, "close", None)
        if close is not None:
            close()  # a gone client stops recognition and synthesis

    async def body(self) -> AsyncIterator[str]:
        try:
            if self._first is not None:
                yield self._first
            async for event in self._events:
                yield event
        finally:
            await self.close()
