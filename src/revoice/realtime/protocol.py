"""The wire of the Realtime protocol: ids, `error` events, and checks on each client frame.

Server events are plain dicts in the GA shapes of the `openai` SDK's `types.realtime`. A bad
frame (not JSON, not an object, an unknown type, too large, binary) is answered with an
`error` event in OpenAI's shape; the session goes on.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from revoice.errors import InvalidOption, RevoiceError

#: client events the session understands (GA names; the beta names are the same for these)
CLIENT_EVENTS = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def invalid(message: str, param: str | None = None, code: str | None = None) -> InvalidOption:
    """A bad client event's error, with OpenAI's `code` when there is one."""
    error = InvalidOption(message, param)
    if code:
        error.code = code
    return error


def error_event(
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    kind: str = "invalid_request_error",
    event_id: str | None = None,
) -> dict[str, Any]:
    """An `error` server event; `event_id` is the client event at fault, when known."""
    return {
        "type": "error",
        "error": {
            "type": kind,
            "code": code,
            "message": message,
            "param": param,
            "event_id": event_id,
        },
    }


def error_for(exc: BaseException, event_id: str | None = None) -> dict[str, Any]:
    """The `error` event for an exception raised while handling a client event."""
    if isinstance(exc, RevoiceError):
        kind = "server_error" if exc.status >= 500 else "invalid_request_error"
        return error_event(str(exc), code=exc.code, param=exc.param, kind=kind, event_id=event_id)
    return error_event(
        "internal error; the server log has the details",
        code="internal_error",
        kind="server_error",
        event_id=event_id,
    )


class BadFrame(Exception):
    """A client frame that is not a usable event; `event` is the error event to send."""

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__(event["error"]["message"])
        self.event = event


def parse_frame(text: str | None, data: bytes | None, max_bytes: int) -> dict[str, Any]:
    """The client event in one WebSocket message, or BadFrame."""
    if text is None:
        size = len(data or b"")
        if size > max_bytes:
            raise BadFrame(_too_large(size, max_bytes))
        raise BadFrame(
            error_event(
                "binary messages are not events: send each event as a JSON text message",
                code="invalid_event",
            )
        )
    size = len(text) if text.isascii() else len(text.encode())
    if size > max_bytes:
        raise BadFrame(_too_large(size, max_bytes))
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise BadFrame(
            error_event(f"the message is not valid JSON: {exc}", code="invalid_json")
        ) from None
    if not isinstance(event, dict):
        raise BadFrame(error_event("an event must be a JSON object", code="invalid_event"))
    event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
    kind = event.get("type")
    if not isinstance(kind, str):
        raise BadFrame(
            error_event(
                "the event has no 'type'",
                code="missing_required_parameter",
                param="type",
                event_id=event_id,
            )
        )
    if kind not in CLIENT_EVENTS:
        raise BadFrame(
            error_event(
                f"unknown event type {kind!r}; supported: {', '.join(CLIENT_EVENTS)}",
                code="invalid_value",
                param="type",
                event_id=event_id,
            )
        )
    return event


def _too_large(size: int, limit: int) -> dict[str, Any]:
    return error_event(
        f"the message is {size} bytes, over the limit of {limit} bytes per event "
        "(send audio in smaller appends)",
        code="message_too_large",
    )
