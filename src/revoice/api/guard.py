"""The one door-keeper of the server: the API key for every door, and the declared upload size.

When `REVOICE_API_KEY` is set, everything that does work needs it: the OpenAI API under `/v1`,
the realtime WebSocket, and the web page with its own API (Gradio's `/gradio_api/...`, which
`gradio_client` and the page's JavaScript call). Only `/health` and the page's sign-in form
stay open. A request proves it knows the key by

- `Authorization: Bearer <key>` (the OpenAI SDK, curl, `gradio_client(headers=...)`),
- the WebSocket subprotocol `openai-insecure-api-key.<key>` (browsers cannot set headers on a
  WebSocket; OpenAI's realtime clients send the key this way), or
- the page's session cookie, set by signing in at `/login` with the key. The cookie counts
  only for requests from the page's own origin (no `Origin` header, or one naming this
  host): another site, or another port on localhost, cannot borrow it.

FastAPI parses a whole multipart form before any dependency runs, so this is a small ASGI
middleware: an unauthenticated or oversized upload is refused before its first byte is read,
a chunked body is cut off as soon as it passes the limit, and a request past the queue bound
is answered 429 at once (`revoice.api.admission`).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revoice import storage
from revoice.api.admission import Admission, ClientGone, ServerBusy
from revoice.api.errors import error_body
from revoice.api.hosts import AllowedHosts
from revoice.api.hosts import hostname as _hostname
from revoice.config import Settings
from revoice.errors import StorageFull

log = logging.getLogger("revoice.api")

_SLACK = 64 * 1024  # multipart framing around the file itself
COOKIE = "revoice_session"
SUBPROTOCOL = "openai-insecure-api-key."
#: paths that need no key: liveness, and the sign-in form itself
OPEN_PATHS = ("/health", "/login")
_MAX_FORM = 8 * 1024


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings, admission: Admission) -> None:
        self.app = app
        self.settings = settings
        self.admission = admission
        self.hosts = AllowedHosts(settings.allowed_hosts, settings.host)
        key = settings.api_key
        self.key = key.get_secret_value().encode() if key is not None else None
        self.session = (
            hmac.new(self.key, b"revoice page session", hashlib.sha256).hexdigest()
            if self.key
            else ""
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        host = headers.get("host", "")
        if not self.hosts.allows(host):
            message = (
                f"this server is not reached by the name {_hostname(host)!r}: add it to "
                "REVOICE_ALLOWED_HOSTS to allow it"
            )
            await self._refuse(scope, send, 421, message, "host_not_allowed")
            return
        page = not path.startswith("/v1")
        if page and scope["type"] == "http" and not _same_origin(headers):
            # The page and its API answer only the page itself: another site (or another
            # port on localhost, which Gradio's CORS would let in) can neither read it nor
            # make it work; its preflights are refused too, so it cannot forge headers.
            message = "cross-origin requests to the page are refused"
            await self._refuse(scope, send, 403, message, "cross_origin")
            return
        if self.key is not None and path not in OPEN_PATHS:
            refusal = self._authenticate(scope, headers)
            if refusal is not None:
                if scope["type"] == "websocket":
                    await _deny_websocket(scope, send, error_body(401, refusal[1], code=refusal[0]))
                elif path.startswith("/v1") or not _wants_html(scope, headers):
                    await _reply(send, 401, error_body(401, refusal[1], code=refusal[0]))
                else:
                    await _redirect(send, "/login?next=" + quote(_target(scope), safe=""))
                return
        if path == "/login" and self.key is not None and scope["type"] == "http":
            await self._login(scope, receive, send)
            return
        if scope["type"] == "http" and scope.get("method") == "POST":
            room = self._refuse_room(headers, page=page)
            if room is not None:
                await _reply(send, 507, room)
                return
        if scope["type"] == "websocket" or page:
            await self.app(scope, receive, send)
            return
        refusal_size = self._refuse_size(headers)
        if refusal_size is not None:
            await _reply(send, 413, refusal_size)
            return
        if scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        try:
            job = self.admission.admit(receive)
        except ServerBusy as busy:
            body = error_body(429, str(busy), code=busy.code)
            await _reply(send, 429, body, [(b"retry-after", str(busy.retry_after).encode())])
            return
        try:
            capped = _Capped(receive, send, self.settings.limits.max_upload_bytes)
            try:
                await self.app(scope, job.wrap(capped.receive), capped.send)
            except Exception:
                if not capped.over:
                    raise
            if capped.over:
                await capped.refuse()
        except ClientGone:
            pass  # nobody is listening: the work it was waiting for was skipped
        finally:
            self.admission.release()

    def _authenticate(self, scope: Scope, headers: dict[str, str]) -> tuple[str, str] | None:
        """None when the request carries the key; else (code, message)."""
        assert self.key is not None
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and given.strip():
            if hmac.compare_digest(given.strip().encode(), self.key):
                return None
            return "invalid_api_key", "incorrect API key"
        if scope["type"] == "websocket":
            offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
            for protocol in offered:
                if protocol.startswith(SUBPROTOCOL):
                    if hmac.compare_digest(protocol[len(SUBPROTOCOL) :].encode(), self.key):
                        return None
                    return "invalid_api_key", "incorrect API key"
        cookie = _cookies(headers).get(COOKIE)
        if (
            cookie is not None
            and _same_origin(headers)
            and hmac.compare_digest(cookie.encode(), self.session.encode())
        ):
            return None
        return (
            "missing_api_key",
            "missing API key: send Authorization: Bearer <key>, or sign in on the page",
        )

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str, code: str) -> None:
        body = error_body(status, message, code=code)
        if scope["type"] == "websocket":
            await _deny_websocket(scope, send, body, status)
        else:
            await _reply(send, status, body)

    def _refuse_room(self, headers: dict[str, str], *, page: bool) -> dict[str, Any] | None:
        """507 for an upload the disk cannot hold, before a byte of it is stored."""
        if not headers.get("content-type", "").startswith("multipart/form-data"):
            return None
        declared = headers.get("content-length", "")
        limit = self.settings.limits.max_upload_bytes
        need = min(int(declared), limit + _SLACK) if declared.isdigit() else limit
        where = storage.page_cache_dir() if page else storage.upload_dir()
        try:
            storage.ensure_room(where, need, "the upload")
        except StorageFull as full:
            log.warning("upload refused: %s", full)
            return error_body(507, str(full), "file", full.code)
        return None

    def _refuse_size(self, headers: dict[str, str]) -> dict[str, Any] | None:
        declared = headers.get("content-length", "")
        limit = self.settings.limits.max_upload_bytes
        if declared.isdigit() and int(declared) > limit + _SLACK:
            return error_body(
                413,
                f"the upload is larger than the limit of {limit} bytes",
                "file",
                "input_too_large",
            )
        return None

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        """GET: the sign-in form; POST: check the key, set the session cookie, go on."""
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        target = _safe_next(query.get("next", ["/"])[0])
        if scope.get("method") != "POST":
            await _html(send, 200, _login_page(target, wrong=False))
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > _MAX_FORM:
                await _html(send, 413, _login_page(target, wrong=True))
                return
            if not message.get("more_body"):
                break
        form = parse_qs(body.decode("utf-8", "replace"))
        given = form.get("key", [""])[0].strip().encode()
        target = _safe_next(form.get("next", [target])[0])
        assert self.key is not None
        if not hmac.compare_digest(given, self.key):
            await _html(send, 401, _login_page(target, wrong=True))
            return
        secure = "; Secure" if scope.get("scheme") in ("https", "wss") else ""
        cookie = f"{COOKIE}={self.session}; Path=/; HttpOnly; SameSite=Strict{secure}"
        await _redirect(send, target, ((b"set-cookie", cookie.encode("latin-1")),))


class _Capped:
    """A request body cut off as soon as it passes the limit (a chunked upload declares no
    length): the app sees the client go, and the client gets 413, not a parse error."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.seen = 0
        self.over = False
        self.started = False

    async def receive(self) -> Message:
        if self.over:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit + _SLACK and not self.started:
                self.over = True
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.over:
            return  # the app's answer to a body it never got: the 413 below replaces it
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def refuse(self) -> None:
        message = f"the upload is larger than the limit of {self.limit} bytes"
        await _reply(self._send, 413, error_body(413, message, "file", "input_too_large"))


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    found = {}
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            found[name] = value
    return found


def _same_origin(headers: dict[str, str]) -> bool:
    origin = headers.get("origin")
    if origin is None:
        return True
    hosts = {headers.get("host", "").lower(), headers.get("x-forwarded-host", "").lower()}
    return urlsplit(origin).netloc.lower() in hosts - {""}


def _wants_html(scope: Scope, headers: dict[str, str]) -> bool:
    return scope.get("method") == "GET" and "text/html" in headers.get("accept", "")


def _target(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return str(scope.get("path", "/")) + (f"?{query}" if query else "")


def _safe_next(target: str) -> str:
    """Only a path on this server (never `//other.host` or a URL) to go to after signing in."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_page(target: str, *, wrong: bool) -> str:
    note = "<p class=err>That is not the key. Try again.</p>" if wrong else ""
    return f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1"><title>revoice: sign in</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}}
input,button{{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.3rem 0}}
.err{{color:#b00}}</style></head><body><h1>revoice</h1>
<p>This server needs its API key (the value of <code>REVOICE_API_KEY</code>).</p>{note}
<form method=post action="/login"><input type=hidden name=next value="{html.escape(target)}">
<label>API key <input type=password name=key autocomplete=current-password autofocus></label>
<button type=submit>Sign in</button></form></body></html>"""


async def _reply(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"connection", b"close"),
        *(extra or []),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _deny_websocket(
    scope: Scope, send: Send, body: dict[str, Any], status: int = 401
) -> None:
    """Refuse a WebSocket handshake: the status with OpenAI's error body where the server can
    send one (the ASGI denial-response extension), else a policy-violation close (HTTP 403)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *([(b"www-authenticate", b"Bearer")] if status == 401 else []),
    ]
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": data})


async def _html(send: Send, status: int, page: str) -> None:
    data = page.encode()
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(data)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _redirect(send: Send, target: str, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    location = quote(target, safe="/?=&%:#;,+-._~")
    headers = [(b"location", location.encode("ascii")), (b"content-length", b"0"), *extra]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
