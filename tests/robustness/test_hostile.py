"""A corpus of 40+ hostile or odd inputs: each gets a specific answer, and the server stays up."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from revoice.cli import main
from tests.helpers import normalize
from tests.robustness.corpus import Case, cases

CASES = list(cases())
SPEECH_WORDS = "young man"


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


def _error_shape(body: dict[str, object]) -> dict[str, object]:
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    return error


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transcription_api(api: TestClient, case: Case) -> None:
    reply = api.post(
        "/v1/audio/transcriptions",
        files={"file": (case.filename, case.data, "application/octet-stream")},
        data={"model": "whisper-1", "language": "en"},
    )
    assert reply.status_code == case.status, reply.text
    if case.status != 200:
        error = _error_shape(reply.json())
        assert error["param"] == "file"
        assert "Traceback" not in str(error["message"])
        return
    text = normalize(reply.json()["text"])
    if case.name.startswith("valid-") or case.name in {
        "wrong-extension",
        "no-extension",
        "unicode-filename",
        "wav-huge-declared-length",
        "8khz",
        "192khz",
        "6-channel",
    }:
        assert SPEECH_WORDS in text
    elif case.name in {"wav-one-sample", "wav-no-samples", "float-wav-nan-inf", "wav-bits-3"}:
        assert text == ""


@pytest.mark.parametrize("case", [c for c in CASES if c.status != 200][:12], ids=lambda c: c.name)
def test_voice_to_voice_api_rejects_before_any_audio(api: TestClient, case: Case) -> None:
    reply = api.post(
        "/v1/audio/voice-to-voice",
        files={"file": (case.filename, case.data)},
        data={"voice": "english-male-1"},
    )
    assert reply.status_code == case.status
    assert reply.headers["content-type"].startswith("application/json")
    _error_shape(reply.json())


def test_the_server_still_serves_after_the_corpus(api: TestClient) -> None:
    for case in CASES[:10]:
        api.post("/v1/audio/transcriptions", files={"file": (case.filename, case.data)})
    good = next(c for c in CASES if c.name == "valid-wav")
    reply = api.post("/v1/audio/transcriptions", files={"file": ("a.wav", good.data)})
    assert reply.status_code == 200 and SPEECH_WORDS in normalize(reply.json()["text"])
    assert api.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"input": "x" * 2001, "voice": "alloy"}, 413),
        ({"input": "\x00\x01\x02\x07\x1b\x7f", "voice": "alloy"}, 400),
        ({"input": "   ...  !!! ", "voice": "alloy"}, 400),
        ({"input": "Hello.", "voice": "../../etc/passwd"}, 404),
        ({"input": "Hello.", "voice": "/etc/passwd"}, 404),
        ({"input": "Hello.", "voice": "english-male-1\x00"}, 404),
        ({"input": "Hello.", "voice": "x" * 5000}, 404),
        ({"input": "Hello.", "voice": "alloy", "response_format": "exe"}, 422),
        ({"input": "Hello.", "voice": "alloy", "speed": "fast"}, 422),
        ({"input": 42, "voice": "alloy"}, 422),
    ],
)
def test_speech_api_bad_bodies(api: TestClient, body: dict[str, object], status: int) -> None:
    reply = api.post("/v1/audio/speech", json={"model": "tts-1", **body})
    assert reply.status_code == status, reply.text
    _error_shape(reply.json())


def test_speech_api_non_utf8_body(api: TestClient) -> None:
    raw = b'{"model": "tts-1", "voice": "alloy", "input": "caf\xe9 \xff\xfe"}'
    reply = api.post("/v1/audio/speech", content=raw, headers={"content-type": "application/json"})
    assert reply.status_code == 400  # the body cannot be parsed at all
    _error_shape(reply.json())


def test_control_characters_are_cleaned_not_spoken(api: TestClient) -> None:
    reply = api.post(
        "/v1/audio/speech",
        json={
            "model": "tts-1",
            "voice": "echo",
            "response_format": "wav",
            "input": "Hello\x00 there\x07.\u200b How\x1b are you?",
        },
    )
    assert reply.status_code == 200 and len(reply.content) > 10_000


def test_upload_over_the_size_limit_is_refused(api: TestClient) -> None:
    big = b"\x00" * (5 * 1024 * 1024)
    reply = api.post("/v1/audio/transcriptions", files={"file": ("big.wav", big)})
    assert reply.status_code == 413
    assert _error_shape(reply.json())["code"] == "input_too_large"


@pytest.mark.parametrize("case", [c for c in CASES if c.status != 200][:15], ids=lambda c: c.name)
def test_cli_gives_one_line_errors(
    case: Case, env_home: object, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / case.filename
    path.write_bytes(case.data)
    code = main(["transcribe", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("revoice: error: ") and err.count("\n") == 1


def test_voice_names_are_never_paths(api: TestClient) -> None:
    reply = api.get("/v1/models/..%2F..%2Fetc%2Fpasswd")
    assert reply.status_code == 404
    assert json.loads(reply.text)["error"]["code"] == "unknown_model"
