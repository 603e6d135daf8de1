"""What the API tests share: clips, SDK clients, the error shape, hearing audio, a server."""

from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI

from revoice import codecs
from revoice.audio import Audio
from revoice.config import Settings
from revoice.pipeline import Pipeline
from revoice.server import create_app
from revoice.types import TranscribeOptions
from tests.helpers import HUMAN, wer

#: the error `type` each status must carry (OpenAI's error shape)
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    503: "server_error",
}
_ANY: Any = object()

#: short sentences Kokoro and Piper both say clearly (Whisper base hears them word for word)
SENTENCES = (
    "Please call me back after lunch today.",
    "The library opens at nine in the morning.",
    "My sister bought a red bicycle.",
    "We walked along the river until sunset.",
)
#: a Hindi sentence and the English words a translation of it should contain
HINDI_SENTENCE = "मुझे किताबें पढ़ना पसंद है।"
HINDI_GIST = {"i", "like", "love", "books", "reading", "read"}


def _references() -> dict[str, str]:
    with (HUMAN / "transcripts.tsv").open(encoding="utf-8") as handle:
        return {row["file"]: row["transcript"] for row in csv.DictReader(handle, delimiter="\t")}


#: reference transcript of each human clip, by file name
REFERENCES = _references()
#: the clip most tests send: "he was not an ill disposed young man"
CLIP = "librivox-0880.wav"
CLIP_SECONDS = 2.99


def clip_bytes(name: str) -> bytes:
    """The file bytes of a human clip (wav), as a client would upload them."""
    return (HUMAN / name).read_bytes()


def wav_bytes(name: str) -> bytes:
    """A human clip as a wav file (the headerless .raw clips are 16 kHz PCM)."""
    if name.endswith(".raw"):
        return codecs.encode(codecs.decode_pcm(clip_bytes(name), 16000), "wav")
    return clip_bytes(name)


def sdk_for(http: Any, base_url: str = "http://127.0.0.1/v1", api_key: str = "x") -> openai.OpenAI:
    """The official SDK over `http` (a TestClient in process, a real client for a server)."""
    return openai.OpenAI(base_url=base_url, api_key=api_key, http_client=http, max_retries=0)


def app_with(settings: Settings, pipeline: Pipeline, **updates: Any) -> FastAPI:
    """Another app over the shared pipeline (models stay loaded), with some settings changed."""
    return create_app(settings.model_copy(update=updates), pipeline)


def upload(data: bytes, name: str = "clip.wav") -> list[tuple[str, tuple[str, bytes, str]]]:
    """A multipart `file` field."""
    return [("file", (name, data, "application/octet-stream"))]


def voice_to_voice(
    client: openai.OpenAI, data: bytes, cast_to: Any = httpx.Response, **fields: Any
) -> Any:
    """POST /v1/audio/voice-to-voice through the SDK's generic `post` (multipart)."""
    return client.post(
        "/audio/voice-to-voice",
        cast_to=cast_to,
        body=fields,
        files=upload(data),
        options={"headers": {"Content-Type": "multipart/form-data"}},
    )


def assert_error(
    response: Any, status: int, *, code: str | None = None, param: str | None = _ANY
) -> dict[str, Any]:
    """`response` is a complete JSON error body in OpenAI's shape, with `status`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"], error
    assert error["type"] == ERROR_TYPES[status], error
    if code is not None:
        assert error["code"] == code, error
    if param is not _ANY:
        assert error["param"] == param, error
    return error


def hear(pipeline: Pipeline, audio: Audio) -> str:
    """What Whisper hears in `audio` (English)."""
    return pipeline.transcribe(audio, TranscribeOptions(language="en")).text


def assert_says(pipeline: Pipeline, audio: Audio, text: str, limit: float = 0.15) -> None:
    heard = hear(pipeline, audio)
    assert wer([text], [heard]) <= limit, f"said {text!r}, heard {heard!r}"


SRT_STAMP = r"(\d\d):(\d\d):(\d\d),(\d{3})"
VTT_STAMP = r"(\d\d):(\d\d):(\d\d)\.(\d{3})"


def _seconds(parts: tuple[Any, ...]) -> float:
    hours, minutes, secs, millis = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + secs + millis / 1000


def cues(subtitles: str, stamp: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of each cue of SRT or WebVTT subtitles."""
    pattern = re.compile(rf"^{stamp} --> {stamp}\n((?:.+(?:\n|$))+)", re.MULTILINE)
    return [
        (
            _seconds(m.groups()[:4]),
            _seconds(m.groups()[4:8]),
            " ".join(m.group(9).split("\n")).strip(),
        )
        for m in pattern.finditer(subtitles)
    ]


def check_cues(
    found: list[tuple[float, float, str]], reference: str, seconds: float, max_wer: float = 0.1
) -> None:
    """Cues in order, within the recording, and saying the reference words."""
    assert found
    previous = 0.0
    for start, end, _ in found:
        assert previous <= start < end <= seconds + 0.05
        previous = end
    assert wer([reference], [" ".join(text for _, _, text in found)]) <= max_wer


# a real `revoice serve` process

STARTUP_TIMEOUT = 180.0
STOP_TIMEOUT = 35.0  # uvicorn's graceful shutdown waits up to 30 s
LOG_TAIL = 20_000


@dataclass
class Server:
    base_url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def url(self) -> str:
        """The base URL with a trailing slash (what gradio_client and the browser want)."""
        return self.base_url + "/"

    def output(self, limit: int = LOG_TAIL) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(cannot read {self.log}: {exc})"
        return text if len(text) <= limit else "...\n" + text[-limit:]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("revoice")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "revoice"]


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer yet"
    with httpx.Client(trust_env=False, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(
                    f"revoice serve exited with status {server.process.returncode}; "
                    f"its output:\n{server.output()}",
                    pytrace=False,
                )
            try:
                response = client.get(server.base_url + "/health")
                if response.status_code == 200 and response.json().get("status") == "ok":
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.25)
    pytest.fail(
        f"revoice serve did not answer /health within {STARTUP_TIMEOUT:g} s ({last}); "
        f"its output:\n{server.output()}",
        pytrace=False,
    )


@contextmanager
def running_server(
    revoice_home: Path,
    workdir: Path,
    args: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """`revoice serve --host 127.0.0.1 --port <free> [args]` with its own Gradio temp dir and a
    voices file that does not exist; healthy on entry, stopped on exit."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REVOICE_", "GRADIO_")) and k.lower() != "no_proxy"
    }
    env.update(
        REVOICE_HOME=str(revoice_home),
        REVOICE_VOICES=str(workdir / "missing" / "voices.toml"),  # does not exist
        GRADIO_ANALYTICS_ENABLED="False",
        GRADIO_TEMP_DIR=str(workdir / "gradio"),
        PYTHONUNBUFFERED="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env.update(extra_env or {})
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*serve_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
    server = Server(base_url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        wait_healthy(server)
        yield server
    finally:
        stop(process)
