"""Every error status the API answers with, in OpenAI's shape, decided before any body byte.

Streaming endpoints (speech, streamed transcription, voice to voice) are read as streams here:
an error must arrive as its own status with one complete JSON body, never as a 200 stream.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from revoice import codecs
from revoice.audio import Audio
from revoice.config import Limits, Settings
from revoice.errors import EngineUnavailable
from revoice.models import ModelCache
from revoice.pipeline import Pipeline
from revoice.types import SynthesisOptions, Voice
from tests.api.helpers import REFERENCES, app_with, assert_error, clip_bytes, sdk_for, upload
from tests.helpers import wer

SHORT = "cards-003.wav"  # 49 kB, 1.5 s: "seven of clubs"
RANDOM_BYTES = random.Random(0).randbytes(4096)


def streamed(client: TestClient, method: str, url: str, **kwargs: Any) -> Any:
    """The response to a request opened as a stream, as a player would, then read whole."""
    with client.stream(method, url, **kwargs) as response:
        response.read()
    return response


def v2v(client: TestClient, data: dict[str, str]) -> Any:
    """A streamed voice-to-voice request for the short clip, with these form fields."""
    return streamed(
        client, "POST", "/v1/audio/voice-to-voice", files=upload(clip_bytes(SHORT)), data=data
    )


def expect_sdk_error(status: int, call: Any, **kwargs: Any) -> dict[str, Any]:
    """Run an SDK call that must fail with `status`; the error as the server sent it."""
    with pytest.raises(openai.APIStatusError) as info:
        result = call()
        if hasattr(result, "__enter__"):  # a streaming response: open it
            with result:
                pass
    return assert_error(info.value.response, status, **kwargs)


# 400


def test_unknown_transcription_format(sdk: openai.OpenAI) -> None:
    expect_sdk_error(
        400,
        lambda: sdk.audio.transcriptions.create(
            file=(SHORT, clip_bytes(SHORT)), model="whisper-1", response_format="xyz"
        ),
        code="invalid_option",
        param="response_format",
    )


def test_unknown_translation_format(sdk: openai.OpenAI) -> None:
    expect_sdk_error(
        400,
        lambda: sdk.audio.translations.create(
            file=(SHORT, clip_bytes(SHORT)), model="whisper-1", response_format="xyz"
        ),
        param="response_format",
    )


def test_unknown_timestamp_granularity(http: TestClient) -> None:
    response = http.post(
        "/v1/audio/transcriptions",
        files=upload(clip_bytes(SHORT)),
        data={"response_format": "verbose_json", "timestamp_granularities[]": "syllable"},
    )
    assert_error(response, 400, code="invalid_option", param="timestamp_granularities[]")


def test_voice_to_voice_unknown_task(http: TestClient) -> None:
    response = v2v(http, {"task": "dance"})
    assert_error(response, 400, code="invalid_option", param="task")


def test_voice_to_voice_unknown_text_mode(http: TestClient) -> None:
    response = v2v(http, {"mode": "sing"})
    assert_error(response, 400, code="invalid_option", param="mode")


def test_voice_to_voice_unknown_format(http: TestClient) -> None:
    response = v2v(http, {"response_format": "xyz"})
    assert_error(response, 400, param="response_format")


def test_speech_with_nothing_to_say(sdk: openai.OpenAI) -> None:
    expect_sdk_error(
        400,
        lambda: sdk.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="..."
        ),
        code="invalid_option",
        param="input",
    )


def test_voice_to_voice_unknown_audio_format(http: TestClient) -> None:
    response = http.post(
        "/v1/audio/voice-to-voice",
        files=upload(clip_bytes(SHORT)),
        data={"response_format": "json", "audio_format": "xyz"},
    )
    assert_error(response, 400, code="invalid_option", param="audio_format")


# 401


@pytest.fixture(scope="module")
def secured(settings: Settings, pipeline: Pipeline) -> Iterator[TestClient]:
    """The app with an API key set."""
    with TestClient(
        app_with(settings, pipeline, api_key=SecretStr("secret")), base_url="http://127.0.0.1"
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("GET", "/v1/models", {}),
        ("GET", "/v1/audio/voices", {}),
        ("POST", "/v1/audio/speech", {"json": {"input": "Hello.", "voice": "echo"}}),
        ("POST", "/v1/audio/transcriptions", {"files": upload(clip_bytes(SHORT))}),
        ("POST", "/v1/audio/voice-to-voice", {"files": upload(clip_bytes(SHORT))}),
    ],
)
def test_missing_key(secured: TestClient, method: str, url: str, kwargs: dict[str, Any]) -> None:
    response = streamed(secured, method, url, **kwargs)
    assert_error(response, 401, code="missing_api_key", param=None)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic secret", "secret", "Bearer "])
def test_malformed_authorization(secured: TestClient, header: str) -> None:
    response = secured.get("/v1/models", headers={"Authorization": header})
    assert_error(response, 401, code="missing_api_key")


def test_wrong_key(secured: TestClient) -> None:
    wrong = sdk_for(secured, api_key="not-the-secret")
    expect_sdk_error(401, lambda: wrong.models.list(), code="invalid_api_key")
    expect_sdk_error(
        401,
        lambda: wrong.audio.speech.with_streaming_response.create(
            model="tts-1", voice="echo", input="Hello."
        ),
        code="invalid_api_key",
    )


def test_key_is_checked_before_the_body(secured: TestClient) -> None:
    """An unauthenticated request learns nothing about its body: 401, not 422 or 404."""
    assert_error(secured.post("/v1/audio/speech", json={"voice": "alloy"}), 401)
    assert_error(secured.post("/v1/audio/speech", json={"input": "Hi.", "voice": "nope"}), 401)


def test_right_key(secured: TestClient) -> None:
    client = sdk_for(secured, api_key="secret")
    assert "whisper-1" in {m.id for m in client.models.list()}
    reply = client.audio.speech.create(
        model="tts-1", voice="echo", input="Hello.", response_format="wav"
    )
    assert codecs.decode(reply.content).duration > 0.3
    assert secured.get("/health").status_code == 200  # outside /v1: no key needed


# 404


def test_unknown_voice(sdk: openai.OpenAI) -> None:
    error = expect_sdk_error(
        404,
        lambda: sdk.audio.speech.with_streaming_response.create(
            model="tts-1", voice="nope", input="Hello."
        ),
        code="unknown_voice",
        param="voice",
    )
    assert "english-female" in error["message"]  # the valid voices are listed


def test_unknown_speech_model(sdk: openai.OpenAI) -> None:
    error = expect_sdk_error(
        404,
        lambda: sdk.audio.speech.with_streaming_response.create(
            model="nope", voice="alloy", input="Hello."
        ),
        code="unknown_model",
        param="model",
    )
    assert "tts-1" in error["message"]


def test_unknown_transcription_model_is_not_downloaded(
    sdk: openai.OpenAI, revoice_home: Path
) -> None:
    started = time.monotonic()
    error = expect_sdk_error(
        404,
        lambda: sdk.audio.transcriptions.create(
            file=(SHORT, clip_bytes(SHORT)), model="no-such-model"
        ),
        code="unknown_model",
        param="model",
    )
    assert "ALLOW_DOWNLOAD" in error["message"]
    assert time.monotonic() - started < 30  # no hub round trips (generous: the machine may be busy)
    assert not (revoice_home / "hub").exists()  # where a download would have gone


def test_unknown_transcription_model_streamed(http: TestClient) -> None:
    response = streamed(
        http,
        "POST",
        "/v1/audio/transcriptions",
        files=upload(clip_bytes(SHORT)),
        data={"model": "no-such-model", "stream": "true"},
    )
    assert_error(response, 404, code="unknown_model")


def test_unknown_model_id(sdk: openai.OpenAI) -> None:
    expect_sdk_error(404, lambda: sdk.models.retrieve("nope"), code="unknown_model")


def test_voice_to_voice_unknown_voice(http: TestClient) -> None:
    response = v2v(http, {"voice": "nope"})
    assert_error(response, 404, code="unknown_voice", param="voice")


def test_unknown_api_path(http: TestClient) -> None:
    assert_error(http.get("/v1/audio/nothing-here"), 404)


def test_wrong_method(http: TestClient) -> None:
    assert_error(http.get("/v1/audio/speech"), 405)


# 413


@pytest.fixture(scope="module")
def limited(settings: Settings, pipeline: Pipeline) -> Iterator[TestClient]:
    """Small limits: 60 kB uploads, 2 s of audio, 40 characters of text."""
    limits = Limits(max_upload_bytes=60_000, max_audio_seconds=2.0, max_text_chars=40)
    with TestClient(
        app_with(settings, pipeline, limits=limits), base_url="http://127.0.0.1"
    ) as client:
        yield client


@pytest.fixture(scope="module")
def three_seconds_of_opus() -> bytes:
    """librivox-0880 (3 s) as Opus: far under the byte limit, over the duration limit."""
    data = codecs.encode(codecs.decode(clip_bytes("librivox-0880.wav")), "opus")
    assert len(data) < 60_000
    return data


def test_within_limits(limited: TestClient) -> None:
    client = sdk_for(limited)
    text = client.audio.transcriptions.create(
        file=(SHORT, clip_bytes(SHORT)), model="whisper-1", response_format="text"
    )
    assert wer([REFERENCES[SHORT]], [text]) <= 0.1


@pytest.mark.parametrize(
    "name",
    [
        "librivox-0870.wav",  # 227 kB: its Content-Length alone is refused
        "librivox-0880.wav",  # 96 kB: refused while it is read
    ],
)
@pytest.mark.parametrize("endpoint", ["transcriptions", "translations", "voice-to-voice"])
def test_upload_too_large(limited: TestClient, name: str, endpoint: str) -> None:
    response = streamed(limited, "POST", f"/v1/audio/{endpoint}", files=upload(clip_bytes(name)))
    error = assert_error(response, 413, code="input_too_large", param="file")
    assert "60000 bytes" in error["message"]


@pytest.mark.parametrize(
    ("endpoint", "data"),
    [
        ("transcriptions", {}),
        ("transcriptions", {"stream": "true"}),
        ("translations", {}),
        ("voice-to-voice", {}),
        ("voice-to-voice", {"response_format": "json"}),
    ],
)
def test_audio_too_long(
    limited: TestClient, three_seconds_of_opus: bytes, endpoint: str, data: dict[str, str]
) -> None:
    response = streamed(
        limited,
        "POST",
        f"/v1/audio/{endpoint}",
        files=upload(three_seconds_of_opus, "a.opus"),
        data=data,
    )
    error = assert_error(response, 413, code="input_too_large", param="file")
    assert "2 s" in error["message"]


def test_text_too_long(limited: TestClient) -> None:
    client = sdk_for(limited)
    error = expect_sdk_error(
        413,
        lambda: client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="echo", input="This sentence is longer than forty characters."
        ),
        code="input_too_large",
        param="input",
    )
    assert "40 characters" in error["message"]


# 415


@pytest.mark.parametrize("payload", [RANDOM_BYTES, b""], ids=["random-bytes", "empty"])
@pytest.mark.parametrize(
    ("endpoint", "data"),
    [
        ("transcriptions", {}),
        ("transcriptions", {"stream": "true"}),
        ("translations", {}),
        ("voice-to-voice", {}),
    ],
)
def test_undecodable_audio(
    http: TestClient, payload: bytes, endpoint: str, data: dict[str, str]
) -> None:
    response = streamed(http, "POST", f"/v1/audio/{endpoint}", files=upload(payload), data=data)
    assert_error(response, 415, code="unsupported_audio", param="file")


def test_undecodable_audio_through_the_sdk(sdk: openai.OpenAI) -> None:
    expect_sdk_error(
        415,
        lambda: sdk.audio.transcriptions.create(file=("x.mp3", RANDOM_BYTES), model="whisper-1"),
        code="unsupported_audio",
    )


# 422


def test_speed_out_of_range(sdk: openai.OpenAI) -> None:
    expect_sdk_error(
        422,
        lambda: sdk.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hello.", speed=9
        ),
        code="validation_error",
        param="speed",
    )


def test_missing_input(sdk: openai.OpenAI) -> None:
    expect_sdk_error(
        422,
        lambda: sdk.post(
            "/audio/speech", body={"model": "tts-1", "voice": "alloy"}, cast_to=object
        ),
        code="validation_error",
        param="input",
    )


def test_unknown_speech_format(http: TestClient) -> None:
    response = streamed(
        http,
        "POST",
        "/v1/audio/speech",
        json={"input": "Hello.", "voice": "alloy", "response_format": "xyz"},
    )
    assert_error(response, 422, param="response_format")


def test_voice_to_voice_speed_out_of_range(http: TestClient) -> None:
    response = v2v(http, {"speed": "9"})
    assert_error(response, 422, code="validation_error", param="speed")


def test_missing_file(http: TestClient) -> None:
    response = http.post("/v1/audio/transcriptions", data={"model": "whisper-1"})
    assert_error(response, 422, code="validation_error", param="file")


# 503


def broken_tts(shared: ModelCache) -> ModelCache:
    """Speech to text from the shared cache; every text-to-speech engine fails to load."""

    def build(kind: str, name: str) -> Any:
        if kind == "tts":
            raise EngineUnavailable(f"the {name} engine failed to load (simulated)")
        return shared.asr(name)

    return ModelCache(shared.settings, build)


class FailingSynthesizer:
    """Loads, then fails as it makes the first sentence."""

    def load(self) -> None:
        pass

    def synthesize(self, text: str, voice: Voice, options: SynthesisOptions) -> Iterator[Audio]:
        yield from ()
        raise EngineUnavailable("the engine crashed on its first sentence (simulated)")


def fails_on_first_chunk(shared: ModelCache) -> ModelCache:
    """Speech to text from the shared cache; speech engines that fail on the first chunk."""

    def build(kind: str, name: str) -> Any:
        return FailingSynthesizer() if kind == "tts" else shared.asr(name)

    return ModelCache(shared.settings, build)


def _client(settings: Settings, pipeline: Pipeline, models: ModelCache) -> TestClient:
    broken = Pipeline(settings, models=models, catalogue=pipeline.catalogue)
    return TestClient(app_with(settings, broken), base_url="http://127.0.0.1")


@pytest.fixture(scope="module", params=[broken_tts, fails_on_first_chunk])
def no_tts(
    request: pytest.FixtureRequest, settings: Settings, pipeline: Pipeline
) -> Iterator[TestClient]:
    """An app whose text-to-speech engines fail (to load, or on the first chunk)."""
    with _client(settings, pipeline, request.param(pipeline.models)) as client:
        yield client


def test_speech_engine_unavailable(no_tts: TestClient) -> None:
    expect_sdk_error(
        503,
        lambda: sdk_for(no_tts).audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hello."
        ),
        code="engine_unavailable",
    )


@pytest.mark.parametrize("response_format", ["wav", "json"])
def test_voice_to_voice_engine_unavailable(no_tts: TestClient, response_format: str) -> None:
    response = v2v(no_tts, {"voice": "echo", "response_format": response_format})
    error = assert_error(response, 503, code="engine_unavailable")
    assert "simulated" in error["message"]


def test_other_engines_keep_serving(no_tts: TestClient) -> None:
    client = sdk_for(no_tts)
    text = client.audio.transcriptions.create(
        file=(SHORT, clip_bytes(SHORT)), model="whisper-1", response_format="text"
    )
    assert wer([REFERENCES[SHORT]], [text]) <= 0.1
    assert "tts-1" in {m.id for m in client.models.list()}
    assert no_tts.get("/v1/audio/voices").status_code == 200
    assert no_tts.get("/health").json()["status"] == "ok"
