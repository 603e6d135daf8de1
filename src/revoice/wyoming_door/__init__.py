"""The Wyoming door: revoice's speech to text and text to speech for Home Assistant.

`revoice serve --wyoming tcp://0.0.0.0:10300` serves it beside the HTTP server, in the same
process and event loop, on the same pipeline, catalogue and per-engine limits (one `Runtime`);
`--no-http` serves it alone. See docs/clients.md for setting up Home Assistant.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress
from urllib.parse import urlparse

from wyoming.server import AsyncServer

from revoice.api.deps import Runtime
from revoice.errors import InvalidOption
from revoice.wyoming_door.handler import RevoiceHandler

__all__ = ["WyomingDoor", "check_uri", "serve_alone", "serve_beside"]


def check_uri(uri: str) -> str:
    """`uri` if it is one the door can listen on (tcp://HOST:PORT or unix://PATH)."""
    parts = urlparse(uri)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme == "tcp" and parts.hostname and port:
        return uri
    if parts.scheme == "unix" and parts.path:
        return uri
    raise InvalidOption(
        f"the Wyoming address must look like tcp://0.0.0.0:10300 or unix:///path, not {uri!r}",
        "wyoming",
    )


class WyomingDoor:
    """Listens on a Wyoming URI; each connection gets its own handler over the shared runtime."""

    def __init__(self, runtime: Runtime, uri: str) -> None:
        self.runtime = runtime
        self.uri = check_uri(uri)
        #: engines that failed to load: their voices are offered as not installed
        self.broken: set[str] = set()
        self._server: AsyncServer | None = None

    def _handler(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> RevoiceHandler:
        return RevoiceHandler(self, reader, writer)

    async def start(self) -> None:
        """Listen (without blocking); fails with a one-line error when the address is taken."""
        server = AsyncServer.from_uri(self.uri)
        try:
            await server.start(self._handler)
        except OSError as exc:
            raise InvalidOption(
                f"cannot listen for Wyoming on {self.uri}: {exc.strerror or exc}", "wyoming"
            ) from None
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None


async def _with_door(runtime: Runtime, uri: str, body: Callable[[], Awaitable[None]]) -> None:
    door = WyomingDoor(runtime, uri)
    await door.start()
    print(f"revoice: Wyoming (Home Assistant) on {uri}", flush=True)
    try:
        await body()
    finally:
        await door.stop()


def serve_beside(serve_http: Callable[[], Awaitable[None]], runtime: Runtime, uri: str) -> None:
    """Run the HTTP server (`serve_http`, e.g. uvicorn's `Server.serve`) and the door in one
    event loop; both stop when the HTTP server does (it handles SIGINT and SIGTERM)."""
    asyncio.run(_with_door(runtime, uri, serve_http))


def serve_alone(runtime: Runtime, uri: str) -> None:
    """Only the door, until SIGINT or SIGTERM."""

    async def until_signalled() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()

    asyncio.run(_with_door(runtime, uri, until_signalled))
