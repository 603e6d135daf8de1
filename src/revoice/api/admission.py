"""Admission: how much work the server takes on, and work nobody waits for any more.

Every request that does work (a POST under `/v1`) is admitted here before its body is read:
at most `concurrency` run per engine (the limiters in `deps.Runtime`) and at most
`limits.max_queue` more wait. Past that the answer is 429 with `Retry-After`, so a burst gets a
clear "busy" instead of a queue that grows without bound. A request whose client has hung up
is noticed, and the engine work it was waiting for is skipped (`ClientGone`): dead requests
cost no decoding. `/health` reports the counts.
"""

from __future__ import annotations

import contextvars

import anyio
from starlette.types import Message, Receive

from revoice.errors import RevoiceError


class ServerBusy(RevoiceError):
    """More requests than the server runs and queues: try again later."""

    status = 429
    code = "server_busy"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ClientGone(Exception):
    """The client of this request hung up: its remaining engine work is skipped."""


class Job:
    """One admitted request. Once its body has been read, the only message left for it is a
    disconnect, so polling `receive` (without waiting) tells whether the client has gone."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._body_read = False
        self._gone = False

    def wrap(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                self._gone = True
            elif message["type"] == "http.request" and not message.get("more_body", False):
                self._body_read = True
            return message

        return wrapped

    async def gone(self) -> bool:
        if self._gone or not self._body_read:
            return self._gone
        with anyio.move_on_after(0):
            message = await self._receive()
            self._gone = message["type"] == "http.disconnect"
        return self._gone


_JOB: contextvars.ContextVar[Job | None] = contextvars.ContextVar("revoice_job", default=None)


async def check_client() -> None:
    """Raise `ClientGone` when the current request's client has hung up."""
    job = _JOB.get()
    if job is not None and await job.gone():
        raise ClientGone


class Admission:
    def __init__(self, capacity: int, max_queue: int) -> None:
        self.capacity = capacity
        self.max_queue = max_queue
        self.active = 0

    @property
    def bound(self) -> int:
        return self.capacity + self.max_queue

    def admit(self, receive: Receive) -> Job:
        """A new job, or `ServerBusy` when running + waiting requests are at the bound."""
        if self.active >= self.bound:
            waiting = self.active - self.capacity
            raise ServerBusy(
                f"the server is busy ({self.capacity} requests running, {waiting} waiting); "
                "try again shortly",
                retry_after=max(1, min(30, 2 * waiting // max(1, self.capacity))),
            )
        self.active += 1
        job = Job(receive)
        _JOB.set(job)
        return job

    def release(self) -> None:
        self.active -= 1

    def status(self) -> dict[str, int]:
        return {
            "active": self.active,
            "running_limit": self.capacity,
            "queue_limit": self.max_queue,
        }
