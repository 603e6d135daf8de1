"""Security: voice files stay in their directories, the page serves no arbitrary files."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from revoice.config import Settings
from revoice.errors import VoiceConfigError
from revoice.voices import Catalogue
from tests.helpers import HUMAN
from tests.robustness.conftest import serve_in_thread


def _fake_piper(where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    model = where / "voice.onnx"
    model.write_bytes(b"onnx")
    (where / "voice.onnx.json").write_text(json.dumps({"audio": {"sample_rate": 22050}}))
    return model


def test_voice_files_are_confined_to_the_voice_directories(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    voices = config_dir / "voices.toml"
    inside = _fake_piper(config_dir / "models")
    outside = _fake_piper(tmp_path / "elsewhere")
    settings = Settings(home=tmp_path / "home", voices=voices)
    voices.write_text(f'[voices.ok]\nengine = "piper"\nmodel = "{inside}"\n')
    assert Catalogue.load(voices, settings).get("ok").base == str(inside)
    voices.write_text(f'[voices.sneaky]\nengine = "piper"\nmodel = "{outside}"\n')
    with pytest.raises(VoiceConfigError, match="outside the voice directories"):
        Catalogue.load(voices, settings)
    # a symlink inside pointing outside does not get around it
    (config_dir / "link.onnx").symlink_to(outside)
    (config_dir / "link.onnx.json").symlink_to(outside.with_name("voice.onnx.json"))
    voices.write_text(f'[voices.linked]\nengine = "piper"\nmodel = "{config_dir / "link.onnx"}"\n')
    with pytest.raises(VoiceConfigError, match="outside"):
        Catalogue.load(voices, settings)
    allowed = settings.model_copy(update={"voice_dirs": [tmp_path / "elsewhere"]})
    voices.write_text(f'[voices.sneaky]\nengine = "piper"\nmodel = "{outside}"\n')
    assert Catalogue.load(voices, allowed).get("sneaky").engine == "piper"


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../../../../etc/passwd",
        "/file=/etc/passwd",
        "/gradio_api/file=/proc/self/environ",
        "/../../etc/passwd",
        "/static/../../../../etc/passwd",
    ],
)
def test_the_page_serves_no_arbitrary_files(api: TestClient, path: str) -> None:
    reply = api.get(path)
    assert reply.status_code in (400, 403, 404), (path, reply.status_code)
    assert "root:" not in reply.text and "PATH=" not in reply.text


class _Listener:
    """A loopback TCP listener that counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def test_the_page_never_fetches_an_input_given_as_a_url(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gradio's API takes a file input as a URL and would download it on the server; every
    component of the page refuses it with a clear error before anything is fetched."""
    import gradio as gr
    from gradio import processing_utils
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    fetched: list[str] = []

    async def record(url: str, cache_dir: str) -> str:
        fetched.append(url)
        raise RuntimeError("a download was attempted")

    monkeypatch.setattr(processing_utils, "async_ssrf_protected_download", record)

    def record_sync(url: str, cache_dir: str) -> str:
        fetched.append(url)
        raise RuntimeError("a download was attempted")

    monkeypatch.setattr(processing_utils, "save_url_to_cache", record_sync)
    # the threat is real in this Gradio: a plain component downloads a URL it is given
    with pytest.raises(RuntimeError, match="download was attempted"):
        asyncio.run(gr.Audio().async_move_resource_to_block_cache("https://example.com/a.wav"))
    assert fetched == ["https://example.com/a.wav"]
    fetched.clear()

    listener = _Listener()
    url = f"http://127.0.0.1:{listener.port}/recording.wav"
    try:
        with serve_in_thread(api.app) as base:
            client = Client(
                base + "/",
                verbose=False,
                analytics_enabled=False,
                httpx_kwargs={"trust_env": False},
            )
            with pytest.raises(AppError, match="does not fetch audio from a URL"):
                client.predict(
                    handle_file(url),
                    "english-male-1",
                    "auto",
                    "transcribe",
                    1.0,
                    "",
                    api_name="/convert",
                )
            # the server still serves a real upload afterwards
            transcript, *_ = client.predict(
                handle_file(str(HUMAN / "librivox-0880.wav")),
                "english-male-1",
                "auto",
                "transcribe",
                1.0,
                "",
                api_name="/convert",
            )
            assert "young man" in transcript.lower()
    finally:
        listener.close()
    assert fetched == [] and listener.connections == 0
    # and every component of the page refuses URLs, not only the recording
    demo = next(iter(_blocks(api.app)))
    for block in demo.blocks.values():
        with pytest.raises(gr.Error, match="does not fetch audio from a URL"):
            asyncio.run(block.async_move_resource_to_block_cache("https://example.com/a.wav"))
        with pytest.raises(gr.Error, match="does not fetch audio from a URL"):
            block.move_resource_to_block_cache("https://example.com/a.wav")
    assert fetched == []


def _blocks(app: Any) -> Iterator[Any]:
    """The Gradio Blocks mounted in the app."""
    import gradio as gr

    for route in app.routes:
        blocks = getattr(getattr(route, "app", None), "blocks", None)
        if isinstance(blocks, gr.Blocks):
            yield blocks
