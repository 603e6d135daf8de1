"""Every error leaves the API in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.

Domain errors carry their own status; this is the one place that maps them to HTTP.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from revoice.errors import RevoiceError

log = logging.getLogger("revoice.api")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    500: "server_error",
    503: "server_error",
    507: "server_error",
}


def error_body(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> dict[str, object]:
    return {
        "error": {
            "message": message,
            "type": _TYPES.get(status, "invalid_request_error"),
            "param": param,
            "code": code,
        }
    }


def error_response(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        error_body(status, message, param, code), status_code=status, headers=headers
    )


class APIError(Exception):
    """An HTTP-level error raised by the API itself (auth, a bad parameter)."""

    def __init__(
        self, status: int, message: str, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.param, self.code = status, param, code


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the OpenAI shape."""

    @app.exception_handler(RevoiceError)
    async def _domain(request: Request, exc: RevoiceError) -> JSONResponse:
        if exc.status >= 500:  # the server's problem, not the client's: say it in the log too
            log.warning("%s %s -> %d: %s", request.method, request.url.path, exc.status, exc)
        return error_response(exc.status, str(exc), exc.param, exc.code)

    @app.exception_handler(APIError)
    async def _api(_: Request, exc: APIError) -> JSONResponse:
        return error_response(exc.status, str(exc), exc.param, exc.code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "form")]
        param = ".".join(loc) or None
        message = (
            f"{param}: {first.get('msg', 'invalid value')}"
            if param
            else str(first.get("msg", "invalid request"))
        )
        return error_response(422, message, param, "validation_error")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(
            500, "internal error; the server log has the details", code="internal_error"
        )
