"""Values a hostile tester sent that used to answer 500 or change what they should not.

Reproductions: `language=zz` (or `qq`, `ENG`) -> 500; a custom voice with `language` "zz" or
`../../etc/passwd` accepted and every use of it -> 500; a lone surrogate in speech `input` or a
voice `description` -> 500; `POST /v1/audio/voices` with `id: "alloy"` took over OpenAI's alias;
re-posting an id silently replaced the voice; descriptions had no length limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from revoice import codecs
from revoice.config import Settings
from revoice.pipeline import Pipeline
from revoice.server import create_app
from tests.helpers import HUMAN


@pytest.fixture
def client(settings: Settings, pipeline: Pipeline, tmp_path: Path) -> Iterator[TestClient]:
    own = settings.model_copy(update={"voices": tmp_path / "voices.toml"})
    app = create_app(own, Pipeline(own, models=pipeline.models))
    with TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1") as http:
        yield http


CLIP = (HUMAN / "librivox-0880.wav").read_bytes()


@pytest.mark.parametrize("language", ["zz", "qq", "ENG", "../../etc/passwd"])
@pytest.mark.parametrize("path", ["/v1/audio/transcriptions", "/v1/audio/voice-to-voice"])
def test_unknown_language_is_a_400_naming_it(client: TestClient, path: str, language: str) -> None:
    answer = client.post(path, files={"file": ("a.wav", CLIP)}, data={"language": language})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == "language"
    assert "language code Whisper knows" in error["message"]
    if language == "ENG":
        assert "did you mean 'en'" in error["message"]


@pytest.mark.parametrize("language", ["zz", "../../etc/passwd", ""])
def test_a_voice_with_an_unknown_language_is_refused(client: TestClient, language: str) -> None:
    answer = client.post(
        "/v1/audio/voices", json={"id": "mine", "voice": "english-female", "language": language}
    )
    assert answer.status_code == 400, answer.text
    assert "mine" not in {v["id"] for v in client.get("/v1/audio/voices").json()["data"]}


def test_lone_surrogates_are_dropped_not_a_500(client: TestClient, tmp_path: Path) -> None:
    body = json.dumps({"model": "tts-1", "voice": "echo", "input": "Hello \ud800there."})
    answer = client.post(
        "/v1/audio/speech",
        content=body.encode(),
        headers={"content-type": "application/json"},
        params={},
    )
    assert answer.status_code == 200, answer.text
    assert codecs.decode(answer.content).duration > 0.4
    created = client.post(
        "/v1/audio/voices",
        content=json.dumps(
            {"id": "odd", "voice": "english-female", "description": "a \udfff voice"}
        ).encode(),
        headers={"content-type": "application/json"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["description"] == "a voice"
    assert "odd" in (tmp_path / "voices.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["alloy", "echo", "english-female", "kokoro/jf_alpha"])
def test_shipped_and_openai_names_are_reserved(client: TestClient, name: str) -> None:
    answer = client.post("/v1/audio/voices", json={"id": name, "voice": "english-male-1"})
    assert answer.status_code in (400, 422), answer.text
    listing = client.get("/v1/audio/voices").json()["data"]
    assert not any(v["id"] == name and v.get("source") == "user" for v in listing)


def test_an_existing_voice_is_replaced_only_when_asked(client: TestClient, tmp_path: Path) -> None:
    first = client.post("/v1/audio/voices", json={"id": "mine", "voice": "english-female"})
    assert first.status_code == 201
    saved = (tmp_path / "voices.toml").read_bytes()
    again = client.post("/v1/audio/voices", json={"id": "mine", "voice": "english-male-1"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "voice_exists"
    assert (tmp_path / "voices.toml").read_bytes() == saved  # nothing changed
    replaced = client.post(
        "/v1/audio/voices", json={"id": "mine", "voice": "english-male-1", "overwrite": True}
    )
    assert replaced.status_code == 201 and replaced.json()["parent"] == "english-male-1"


def test_descriptions_have_a_length_limit(client: TestClient, tmp_path: Path) -> None:
    answer = client.post(
        "/v1/audio/voices",
        json={"id": "long", "voice": "english-female", "description": "x" * 1_048_576},
    )
    assert answer.status_code == 400
    assert "300 characters" in answer.json()["error"]["message"]
    assert not (tmp_path / "voices.toml").exists()


def test_model_paths_from_clients_are_not_loaded(client: TestClient, tmp_path: Path) -> None:
    """Each spelling of a directory used to load (and keep) another Whisper, and the error told
    whether a server directory existed. Now only the names /v1/models lists are accepted."""
    from revoice import assets

    base_dir = Path(assets.whisper_tiny_en_dir())  # a real model directory on this server
    assert (base_dir / "model.bin").is_file()
    before = client.get("/health").json()["loaded"]
    messages = set()
    for name in (str(base_dir), f"{base_dir}/", f"{base_dir}/.", str(tmp_path), "/no/such/dir"):
        answer = client.post(
            "/v1/audio/transcriptions", files={"file": ("a.wav", CLIP)}, data={"model": name}
        )
        assert answer.status_code == 404, answer.text
        error = answer.json()["error"]
        assert error["code"] == "unknown_model"
        messages.add(error["message"].replace(name, "<name>"))
    assert len(messages) == 1  # the same words whether or not the directory exists
    assert "tiny.en" in messages.pop()
    assert client.get("/health").json()["loaded"] == before
    listed = client.post(
        "/v1/audio/transcriptions", files={"file": ("a.wav", CLIP)}, data={"model": "tiny.en"}
    )
    assert listed.status_code == 200 and "young man" in listed.json()["text"].lower()


def test_a_chunked_upload_over_the_limit_is_413(api: TestClient) -> None:
    """A chunked body declares no length: it used to get 400 "error parsing the body"."""
    boundary = "revoice-chunked"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(6 * 16):  # 6 MiB against the 4 MiB limit of this app
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    answer = api.post(
        "/v1/audio/transcriptions",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["code"] == "input_too_large"
    assert api.get("/health").json()["requests"]["active"] == 0


def test_a_read_only_home_is_a_503_with_the_reason(tmp_path: Path) -> None:
    """An empty read-only REVOICE_HOME used to give 500s with tracebacks."""
    import os
    import shutil
    import subprocess

    import httpx

    from tests.api.helpers import running_server

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a read-only tmpfs")
    home = tmp_path / "home"
    home.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", str(home)]).returncode:
        pytest.skip("this sandbox does not allow mounting a tmpfs")
    try:
        with running_server(home, tmp_path) as server, httpx.Client(trust_env=False) as http:
            answer = http.post(
                server.base_url + "/v1/audio/transcriptions",
                files={"file": ("a.wav", CLIP)},
                timeout=60,
            )
            assert answer.status_code == 503, answer.text
            assert "REVOICE_HOME" in answer.json()["error"]["message"]
            assert "Traceback" not in server.output()
    finally:
        subprocess.run(["umount", str(home)], check=False)
