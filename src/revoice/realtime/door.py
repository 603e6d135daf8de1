"""`/v1/realtime`: the OpenAI Realtime protocol over a WebSocket, on the app of `revoice serve`.

The API key (when `REVOICE_API_KEY` is set) is checked before the handshake by the server's one
door-keeper, `revoice.api.guard.Guard`: `Authorization: Bearer <key>`, the subprotocol
`openai-insecure-api-key.<key>` that browsers use, or the page's session cookie. Here: a cap on
open sessions, and below it a refusal while the open ones are behind (their turns' transcripts
slow to come): a refused one gets an `error` event and is closed with 1013, "try again later";
a longest session, an idle timeout and a largest frame (`REVOICE_REALTIME__*`). No frame ends
the session but a close.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import math
import os
import statistics
import time
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from revoice.api.deps import Runtime
from revoice.config import Settings
from revoice.errors import RevoiceError
from revoice.realtime.conversation import Conversation
from revoice.realtime.protocol import BadFrame, error_event, error_for, new_id, parse_frame

log = logging.getLogger("revoice.realtime")
router = APIRouter(tags=["realtime"])
TRY_AGAIN_LATER = 1013  # WebSocket close code: the server is overloaded


#: how far back the turns' lags are remembered (seconds), and how many tell
LAG_WINDOW_SECONDS = 60.0
LAG_TURNS = 2


class Sessions:
    """How many realtime sessions an app has open, up to its cap, and whether they keep up:
    each session reports how long each turn took from its end to its transcript."""

    def __init__(self, cap: int, max_lag: float = math.inf) -> None:
        self.cap = cap
        self.max_lag = max_lag
        self.open = 0
        self._lags: collections.deque[tuple[float, float]] = collections.deque()

    def refusal(self) -> str | None:
        """Why a new session cannot be served now; None when it can."""
        if self.open >= self.cap:
            return f"revoice is serving as many realtime sessions as it can ({self.cap})"
        lag = self.lag()
        if self.open and lag is not None and lag > self.max_lag:
            return (
                f"revoice cannot keep up with the {self.open} realtime session(s) it has: "
                f"their turns take {lag:.1f} s to transcribe (at most {self.max_lag:g} s)"
            )
        return None

    def enter(self) -> bool:
        if self.refusal() is not None:
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open -= 1
        if not self.open:
            self._lags.clear()  # the lag was that of the sessions now gone

    def heard(self, lag: float) -> None:
        """A turn's transcript came `lag` seconds after the turn ended."""
        self._lags.append((time.monotonic(), lag))

    def lag(self) -> float | None:
        """The median lag of the last minute's turns; None when too few were heard."""
        since = time.monotonic() - LAG_WINDOW_SECONDS
        while self._lags and self._lags[0][0] < since:
            self._lags.popleft()
        if len(self._lags) < LAG_TURNS:
            return None
        return statistics.median(lag for _, lag in self._lags)


def _cores() -> int:
    """CPU cores this process may run on (a container's limit, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _sessions(ws: WebSocket, settings: Settings) -> Sessions:
    state = ws.app.state
    if getattr(state, "realtime_sessions", None) is None:
        limits = settings.realtime
        state.realtime_sessions = Sessions(limits.max_sessions or _cores(), limits.max_lag_seconds)
    sessions: Sessions = state.realtime_sessions
    return sessions


def _subprotocols(ws: WebSocket) -> list[str]:
    return [str(p) for p in ws.scope.get("subprotocols") or ()]


def _chosen(offered: list[str]) -> str | None:
    """The subprotocol to answer with: `realtime` (what OpenAI's clients offer), else the
    first one offered (a browser that offered any fails a handshake that names none)."""
    if "realtime" in offered:
        return "realtime"
    return offered[0] if offered else None


class _Link:
    """Sends events to the client one at a time; a gone client makes sends no-ops."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.gone = False
        self._lock = asyncio.Lock()

    async def send(self, event: dict[str, Any]) -> None:
        async with self._lock:
            if self.gone or self.ws.application_state != WebSocketState.CONNECTED:
                return
            if "event_id" not in event:
                event = {"event_id": new_id("event"), **event}
            try:
                await self.ws.send_text(json.dumps(event, ensure_ascii=False))
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.gone = True

    async def close(self, code: int = 1000, reason: str = "") -> None:
        async with self._lock:
            if self.gone or self.ws.application_state != WebSocketState.CONNECTED:
                return
            self.gone = True
            with contextlib.suppress(RuntimeError, OSError):
                await self.ws.close(code=code, reason=reason)


@router.websocket("/v1/realtime")
async def realtime(ws: WebSocket, model: str | None = None) -> None:
    """A realtime session: GA client events in, GA server events out (docs/realtime.md)."""
    rt: Runtime = ws.app.state.runtime
    settings = rt.settings
    await ws.accept(subprotocol=_chosen(_subprotocols(ws)))
    link = _Link(ws)
    sessions = _sessions(ws, settings)
    refusal = sessions.refusal()
    if refusal is not None or not sessions.enter():
        message = f"{refusal or 'revoice is serving as many realtime sessions as it can'}; "
        message += "try again later"
        await link.send(error_event(message, code="session_limit_reached", kind="server_error"))
        await link.close(TRY_AGAIN_LATER, "too many sessions")
        return
    conversation: Conversation | None = None
    try:
        conversation = Conversation(rt, link.send, model, on_lag=sessions.heard)
        await conversation.start()
        await _serve(ws, link, conversation, settings)
    except RevoiceError as exc:  # e.g. the default voice is not in the catalogue
        await link.send(error_for(exc))
    finally:
        sessions.leave()
        if conversation is not None:
            await conversation.close()
        await link.close()


async def _serve(
    ws: WebSocket, link: _Link, conversation: Conversation, settings: Settings
) -> None:
    limits = settings.realtime
    deadline = time.monotonic() + limits.max_session_seconds
    while not link.gone:
        left = deadline - time.monotonic()
        try:
            message = await asyncio.wait_for(ws.receive(), min(limits.idle_timeout_seconds, left))
        except TimeoutError:
            if time.monotonic() >= deadline:
                text = (
                    f"the session reached its longest duration of {limits.max_session_seconds:g} s"
                )
                code = "session_expired"
            else:
                text = f"no event for {limits.idle_timeout_seconds:g} s: the session is closed"
                code = "idle_timeout"
            await link.send(error_event(text, code=code))
            return
        if message["type"] == "websocket.disconnect":
            link.gone = True
            return
        try:
            event = parse_frame(message.get("text"), message.get("bytes"), limits.max_frame_bytes)
        except BadFrame as bad:
            await link.send(bad.event)
            continue
        try:
            await conversation.handle(event)
        except Exception:  # a bug must not end the session or the server
            log.exception("realtime event %s failed", event.get("type"))
            await link.send(
                error_event(
                    "internal error; the server log has the details",
                    code="internal_error",
                    kind="server_error",
                    event_id=event.get("event_id"),
                )
            )
