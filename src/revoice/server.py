"""The server behind `revoice serve`: one FastAPI app, the web page at `/`, the API at `/v1`."""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request

from revoice import __version__, storage
from revoice.api import errors as api_errors
from revoice.api.deps import Runtime
from revoice.api.errors import APIError
from revoice.api.guard import Guard
from revoice.api.routes import audio as audio_routes
from revoice.api.routes import catalog as catalog_routes
from revoice.config import Settings
from revoice.errors import InvalidOption, RevoiceError
from revoice.pipeline import Pipeline
from revoice.realtime import door as realtime_door

log = logging.getLogger("revoice")
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def ensure_ffmpeg(home: Path) -> None:
    """Put an `ffmpeg` on PATH for Gradio's streamed audio when the system has none.

    Gradio encodes streamed audio with an ffmpeg subprocess; imageio-ffmpeg ships a static
    build in its wheel, so a fresh machine needs no system package.
    """
    if shutil.which("ffmpeg"):
        return
    import imageio_ffmpeg

    target = Path(imageio_ffmpeg.get_ffmpeg_exe())
    try:
        bindir = _link_ffmpeg(home / "bin", target)
    except OSError:  # a read-only or full REVOICE_HOME: a private temp dir will do
        bindir = _link_ffmpeg(Path(tempfile.mkdtemp(prefix="revoice-bin-")), target)
    os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"


def _link_ffmpeg(bindir: Path, target: Path) -> Path:
    bindir.mkdir(parents=True, exist_ok=True)
    link = bindir / "ffmpeg"
    if link.is_symlink() and link.resolve() != target.resolve():
        link.unlink()
    if not link.exists():
        link.symlink_to(target)
    return bindir


def create_app(
    settings: Settings | None = None,
    pipeline: Pipeline | None = None,
    *,
    capacity: int | None = None,
) -> FastAPI:
    """Build the app from settings; nothing is created at import time.

    `capacity`: engine jobs run at once per engine (default `settings.concurrency`); on Ray
    Serve the replicas limit their own work, so the app lets more through.
    """
    import gradio as gr

    from revoice.ui.app import PAGE_CSS, build_ui

    cfg = settings or Settings()
    ensure_ffmpeg(cfg.home)
    # Python picks its temp dir on first use, skipping one it cannot write to: resolve it
    # now, so that uploads spool (and are refused when it is full) where the operator said.
    storage.upload_dir()
    pipe = pipeline or Pipeline(cfg)
    from fastapi_offline import FastAPIOffline

    # /docs and /redoc with their scripts served by revoice, not fetched from a CDN (a blank
    # page offline)
    app = FastAPIOffline(
        title="revoice",
        version=__version__,
        description="Voice to voice, offline. OpenAI-compatible audio API under /v1.",
    )
    app.state.pipeline = pipe
    capacity = capacity or cfg.concurrency
    app.state.runtime = Runtime(cfg, pipe, capacity)
    api_errors.install(app)
    v1 = APIRouter(prefix="/v1")  # the Guard middleware owns the API key
    v1.include_router(audio_routes.router)
    v1.include_router(catalog_routes.router)
    app.include_router(v1)
    app.include_router(realtime_door.router)  # WebSocket /v1/realtime
    app.add_middleware(Guard, settings=cfg, admission=app.state.runtime.admission)

    @app.api_route("/v1/{path:path}", methods=_METHODS, include_in_schema=False)
    def unknown_api_path(request: Request, path: str) -> None:
        """Unknown /v1 paths get OpenAI-shaped errors (Gradio, mounted at /, would answer)."""
        if any(re.fullmatch(pattern, request.url.path) for pattern in _api_paths(app)):
            raise APIError(405, f"{request.method} is not allowed on /v1/{path}")
        raise APIError(404, f"no such endpoint: /v1/{path}", code="unknown_endpoint")

    @app.get("/health")
    def health() -> dict[str, object]:
        return {
            "status": "ok",
            "version": __version__,
            "loaded": pipe.models.loaded(),
            "requests": app.state.runtime.admission.status(),
        }

    demo = build_ui(pipe, app.state.runtime.workshop)
    demo.queue(default_concurrency_limit=capacity, max_size=cfg.limits.max_queue + capacity)
    theme = gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"],  # no web fonts: works offline
        font_mono=["ui-monospace", "monospace"],
    )
    return gr.mount_gradio_app(
        app,
        demo,
        path="/",
        ssr_mode=False,
        theme=theme,
        css=PAGE_CSS,
        max_file_size=cfg.limits.max_upload_bytes,
        footer_links=["api"],
    )


def _api_paths(app: FastAPI) -> list[str]:
    """Regexes of the /v1 paths in the OpenAPI schema (to tell 405 from 404)."""
    return [
        ".+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", path))
        for path in app.openapi()["paths"]
        if path.startswith("/v1/")
    ]


def warm_up(pipeline: Pipeline) -> None:
    """Load the default ASR model and the default voice's engine, so first requests are quick."""
    try:
        pipeline.models.asr()
        pipeline.models.tts(pipeline.voice(None).engine)
    except RevoiceError as exc:  # reported per request too, with the same reason
        log.warning("warm-up: %s", exc)
    except Exception:  # a broken engine is reported per request, with its reason
        log.exception("warm-up failed")


def check_address(host: str, port: int) -> None:
    """Fail at once, in one line, when `host:port` cannot be listened on (another server has
    it, it needs root, or the address is not this machine's)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        probe = socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            reason = (
                f"port {port} on {host} is in use (another revoice or other server?): stop it, "
                "or choose another port with --port, REVOICE_PORT or `make run PORT=...`"
            )
        elif exc.errno == errno.EACCES:
            reason = f"port {port} needs root on this system: choose one above 1023 with --port"
        elif isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            reason = f"{host!r} is not an address of this machine: try 127.0.0.1 or 0.0.0.0"
        else:
            reason = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        raise InvalidOption(reason, "port") from None
    probe.close()


def serve(
    settings: Settings,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
    *,
    http: bool = True,
) -> None:
    """The HTTP server (web page and API), with the Wyoming door beside it when
    `settings.wyoming.uri` is set; `http=False` serves only the door."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    pipeline = Pipeline(settings)
    warming = threading.Thread(target=warm_up, args=(pipeline,), daemon=True)
    warming.start()
    try:
        _serve(settings, pipeline, ssl_certfile, ssl_keyfile, http)
    finally:
        # exiting while a model still loads in native code aborts the process
        warming.join(timeout=120)


def _serve(
    settings: Settings,
    pipeline: Pipeline,
    ssl_certfile: Path | None,
    ssl_keyfile: Path | None,
    http: bool,
) -> None:
    import uvicorn

    wyoming = settings.wyoming.uri
    if not http:
        from revoice import wyoming_door

        assert wyoming, "serving without HTTP needs a Wyoming address"
        wyoming_door.serve_alone(Runtime(settings, pipeline), wyoming)
        return
    app = create_app(settings, pipeline)
    scheme = "https" if ssl_certfile else "http"
    print(f"revoice {__version__}: serving on {scheme}://{settings.host}:{settings.port}")
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        timeout_graceful_shutdown=30,
    )
    if wyoming is None:
        uvicorn.Server(config).run()
        return
    from revoice import wyoming_door

    wyoming_door.serve_beside(uvicorn.Server(config).serve, app.state.runtime, wyoming)
