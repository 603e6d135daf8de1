"""Streaming engine output over HTTP: the first chunk is made before any byte is sent.

Making the first chunk up front means every error the engine can raise early (a broken
model, bad input) still gets a proper error status; after that, chunks are encoded and sent
as they are made, each in a worker thread within the engine's concurrency limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from revoice.api.deps import Runtime
from revoice.audio import Audio
from revoice.codecs import Format, StreamEncoder


class AudioStream:
    """Encoded audio bytes from a lazy iterator of `Audio` chunks."""

    def __init__(
        self, rt: Runtime, engine: str, chunks: Iterator[Audio], fmt: Format, sample_rate: int
    ) -> None:
        self._rt = rt
        self._engine = engine
        self._chunks = chunks
        self._encoder = StreamEncoder(fmt, sample_rate, streaming=True)
        self._first: bytes | None = None

    def _step(self) -> bytes | None:
        chunk = next(self._chunks, None)
        if chunk is None:
            return None
        return self._encoder.push(chunk)

    async def prime(self) -> None:
        """Make the first chunk now, so its errors surface before the response starts."""
        try:
            self._first = await self._rt.run(self._engine, self._step)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()  # stops the engine's generator: a gone client frees its work

    async def body(self) -> AsyncIterator[bytes]:
        try:
            data = self._first
            while data is not None:
                if data:
                    yield data
                data = await self._rt.run(self._engine, self._step)
            tail = self._encoder.close()
            if tail:
                yield tail
        finally:
            self.close()
