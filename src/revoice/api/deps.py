"""What the routes share: the pipeline, per-engine concurrency limits, auth and uploads."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TypeVar

import anyio
from anyio import CapacityLimiter
from fastapi import Request, UploadFile

from revoice.api.errors import APIError
from revoice.config import Settings
from revoice.errors import InputTooLarge
from revoice.pipeline import Pipeline

T = TypeVar("T")
_CHUNK = 1 << 16


class Runtime:
    """One per app: the shared pipeline and a concurrency limiter per engine.

    Engine calls are blocking, so they run in worker threads, at most `settings.concurrency`
    at once per engine; the event loop stays free for other requests.
    """

    def __init__(self, settings: Settings, pipeline: Pipeline, capacity: int | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.capacity = capacity or settings.concurrency
        self._limiters: dict[str, CapacityLimiter] = {}

    def limiter(self, engine: str) -> CapacityLimiter:
        if engine not in self._limiters:
            self._limiters[engine] = CapacityLimiter(self.capacity)
        return self._limiters[engine]

    async def run(self, engine: str, fn: Callable[..., T], *args: object) -> T:
        """Run a blocking engine call in a worker thread, within the engine's limit."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter(engine))


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def check_api_key(request: Request) -> None:
    """When REVOICE_API_KEY is set, /v1 needs `Authorization: Bearer <key>`."""
    key = runtime(request).settings.api_key
    if not key:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise APIError(
            401, "missing API key: send Authorization: Bearer <key>", code="missing_api_key"
        )
    if not hmac.compare_digest(given.strip().encode(), key.get_secret_value().encode()):
        raise APIError(401, "incorrect API key", code="invalid_api_key")


def check_content_length(request: Request) -> None:
    """Refuse an upload that declares itself too large before reading any of it."""
    limit = runtime(request).settings.limits.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise InputTooLarge(f"the upload is larger than the limit of {limit} bytes", "file")


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
