"""What the routes share: the pipeline, per-engine concurrency limits, auth and uploads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from anyio import CapacityLimiter
from fastapi import Request, UploadFile

from revoice.api.admission import Admission, check_client
from revoice.config import Settings
from revoice.errors import InputTooLarge
from revoice.pipeline import Pipeline
from revoice.workshop import Workshop

T = TypeVar("T")
_CHUNK = 1 << 16


class Runtime:
    """One per app: the shared pipeline, its voice workshop and a concurrency limiter per
    engine.

    Engine calls are blocking, so they run in worker threads, at most `settings.concurrency`
    at once per engine; the event loop stays free for other requests.
    """

    def __init__(self, settings: Settings, pipeline: Pipeline, capacity: int | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.workshop = Workshop(pipeline)
        self.capacity = capacity or settings.concurrency
        self._limiters: dict[str, CapacityLimiter] = {}
        self.admission = Admission(self.capacity, settings.limits.max_queue)

    def limiter(self, engine: str) -> CapacityLimiter:
        if engine not in self._limiters:
            self._limiters[engine] = CapacityLimiter(self.capacity)
        return self._limiters[engine]

    async def run(self, engine: str, fn: Callable[..., T], *args: object) -> T:
        """Run a blocking engine call in a worker thread, within the engine's limit; skipped
        (`ClientGone`) when the request's client hung up while it waited."""
        async with self.limiter(engine):
            await check_client()
            return await anyio.to_thread.run_sync(fn, *args)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """The uploaded file's bytes, read in chunks and refused as soon as it passes `limit`."""
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise InputTooLarge(f"the file is larger than the limit of {limit} bytes", "file")
        parts.append(chunk)
    return b"".join(parts)
