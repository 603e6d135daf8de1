"""Checks made before a request body is read: the API key and the declared upload size.

FastAPI parses a whole multipart form before any dependency runs, so these live in a small
ASGI middleware: an unauthenticated or oversized upload is refused before its first byte is
read, and a chunked body is cut off as soon as it passes the limit.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revoice.api.errors import error_body
from revoice.config import Settings
from revoice.errors import InputTooLarge

_SLACK = 64 * 1024  # multipart framing around the file itself


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/v1"):
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        refusal = self._refuse(headers)
        if refusal is not None:
            await _reply(send, *refusal)
            return
        limit = self.settings.limits.max_upload_bytes + _SLACK
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise InputTooLarge(
                        f"the upload is larger than the limit of "
                        f"{self.settings.limits.max_upload_bytes} bytes",
                        "file",
                    )
            return message

        await self.app(scope, counted, send)

    def _refuse(self, headers: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        key = self.settings.api_key
        if key is not None:
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not given.strip():
                return 401, error_body(
                    401, "missing API key: send Authorization: Bearer <key>", code="missing_api_key"
                )
            if not hmac.compare_digest(given.strip().encode(), key.get_secret_value().encode()):
                return 401, error_body(401, "incorrect API key", code="invalid_api_key")
        declared = headers.get("content-length", "")
        limit = self.settings.limits.max_upload_bytes
        if declared.isdigit() and int(declared) > limit + _SLACK:
            return 413, error_body(
                413,
                f"the upload is larger than the limit of {limit} bytes",
                "file",
                "input_too_large",
            )
        return None


async def _reply(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"connection", b"close"),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
