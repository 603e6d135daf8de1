"""A real `revoice serve` process, driven over loopback HTTP by the official openai SDK.

Also measures what the HTTP path adds to voice to voice, against the same work done by the
pipeline in this process (printed; run with -s to see it; not asserted: timing varies).
"""

from __future__ import annotations

import base64
import re
import socket
import statistics
import time
from collections.abc import Callable, Iterator
from urllib.parse import unquote

import httpx
import openai
import pytest

from revoice import codecs
from revoice.audio import Audio
from revoice.pipeline import Pipeline
from tests.api.helpers import (
    CLIP,
    CLIP_SECONDS,
    HINDI_GIST,
    REFERENCES,
    SENTENCES,
    SRT_STAMP,
    VTT_STAMP,
    Server,
    assert_error,
    assert_says,
    check_cues,
    clip_bytes,
    cues,
    sdk_for,
    voice_to_voice,
)
from tests.helpers import normalize, wer


@pytest.fixture(scope="module")
def client(revoice_server: Server) -> Iterator[openai.OpenAI]:
    """The SDK on the server, over a client that ignores proxy settings (loopback only)."""
    with httpx.Client(trust_env=False, timeout=120.0) as http:
        yield sdk_for(http, base_url=f"{revoice_server.base_url}/v1")


@pytest.fixture(scope="module")
def rates(client: openai.OpenAI) -> dict[str, int]:
    listing = client.get("/audio/voices", cast_to=object)
    return {v["id"]: v["sample_rate"] for v in listing["data"]}


@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json"])
def test_transcription(client: openai.OpenAI, fmt: str) -> None:
    result = client.audio.transcriptions.create(
        file=(CLIP, clip_bytes(CLIP)), model="whisper-1", response_format=fmt
    )
    if fmt == "srt":
        check_cues(cues(result, SRT_STAMP), REFERENCES[CLIP], CLIP_SECONDS)
    elif fmt == "vtt":
        check_cues(cues(result, VTT_STAMP), REFERENCES[CLIP], CLIP_SECONDS)
    else:
        text = result if isinstance(result, str) else result.text
        assert wer([REFERENCES[CLIP]], [text]) <= 0.1
    if fmt == "verbose_json":
        assert result.language == "en" and result.segments


def test_transcription_streamed(client: openai.OpenAI) -> None:
    events = list(
        client.audio.transcriptions.create(
            file=(CLIP, clip_bytes(CLIP)), model="whisper-1", stream=True
        )
    )
    assert {e.type for e in events[:-1]} == {"transcript.text.delta"}
    assert events[-1].type == "transcript.text.done"
    assert "".join(e.delta for e in events[:-1]).strip() == events[-1].text
    assert wer([REFERENCES[CLIP]], [events[-1].text]) <= 0.1


def test_translation(client: openai.OpenAI, hindi_wav: bytes) -> None:
    text = client.audio.translations.create(
        file=("hindi.wav", hindi_wav), model="whisper-1", response_format="text"
    )
    assert re.fullmatch(r"[\x00-\x7F]+", text.strip()), text
    assert len(HINDI_GIST & set(normalize(text).split())) >= 2, text


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_speech(client: openai.OpenAI, pipeline: Pipeline, rates: dict[str, int], fmt: str) -> None:
    text = SENTENCES[1]
    reply = client.audio.speech.create(
        model="tts-1-hd", voice="english-male-1", input=text, response_format=fmt
    )
    assert reply.response.headers["content-type"] == codecs.FORMATS[fmt].mime
    rate = rates["english-male-1"]  # Piper joe: 22.05 kHz; OpenAI's pcm is 24 kHz
    expected = {"opus": 48000, "pcm": 24000}.get(fmt, rate)
    body = reply.content
    audio = codecs.decode_pcm(body, 24000) if fmt == "pcm" else codecs.decode(body)
    assert audio.sample_rate == expected
    assert audio.duration > 1.0
    if fmt == "wav":  # the in-process tests hear every format; over the wire, one is enough
        assert_says(pipeline, audio, text)


def test_speech_streamed(client: openai.OpenAI, pipeline: Pipeline) -> None:
    text = " ".join(SENTENCES[:3])
    started = time.perf_counter()
    arrivals: list[float] = []
    chunks: list[bytes] = []
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=text, response_format="pcm"
    ) as response:
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            arrivals.append(time.perf_counter() - started)
            chunks.append(chunk)
    print(
        f"\nstreamed speech over HTTP: {len(chunks)} chunks, first after {arrivals[0]:.2f} s, "
        f"last after {arrivals[-1]:.2f} s"
    )
    assert len(chunks) >= 2
    audio = codecs.decode_pcm(b"".join(chunks), 24000)
    assert audio.duration > 3.0
    assert_says(pipeline, audio, text)


def test_models_and_voices(client: openai.OpenAI) -> None:
    assert {"whisper-1", "tts-1", "tts-1-hd"} <= {m.id for m in client.models.list()}
    voices = {v["id"] for v in client.get("/audio/voices", cast_to=object)["data"]}
    assert {"english-female", "english-male-1", "hindi-female-1"} <= voices


def test_voice_to_voice(client: openai.OpenAI, pipeline: Pipeline) -> None:
    reply = voice_to_voice(client, clip_bytes(CLIP), voice="alloy", response_format="mp3")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "audio/mpeg"
    transcript = unquote(reply.headers["x-revoice-transcript"])
    assert wer([REFERENCES[CLIP]], [transcript]) <= 0.1
    audio = codecs.decode(reply.content)
    assert audio.sample_rate == 24000
    assert_says(pipeline, audio, transcript)


def test_voice_to_voice_json(client: openai.OpenAI) -> None:
    reply = voice_to_voice(
        client, clip_bytes("forever.wav"), cast_to=object, voice="fable", response_format="json"
    )
    assert wer([REFERENCES["forever.wav"]], [reply["transcript"]]) <= 0.1
    assert reply["text"] == reply["transcript"]
    assert (reply["voice"], reply["format"], reply["sample_rate"]) == (
        "english-male-2",
        "wav",
        24000,
    )
    assert codecs.decode(base64.b64decode(reply["audio"])).duration > 0.5


def test_errors_over_http(client: openai.OpenAI) -> None:
    """Streaming endpoints still answer an error with its status and one JSON body."""
    speech = client.audio.speech.with_streaming_response.create
    with (
        pytest.raises(openai.NotFoundError) as info,
        speech(model="tts-1", voice="nope", input="Hello."),
    ):
        pass
    assert_error(info.value.response, 404, code="unknown_voice", param="voice")
    with pytest.raises(openai.APIStatusError) as info:
        client.audio.transcriptions.create(
            file=("x.wav", b"not audio at all"), model="whisper-1", stream=True
        )
    assert_error(info.value.response, 415, code="unsupported_audio")


def test_http_overhead_of_voice_to_voice(client: openai.OpenAI, pipeline: Pipeline) -> None:
    """The same conversion (wav in, wav out) over HTTP and by the pipeline directly.

    Runs alternate between the two paths, so a busy machine slows both alike.
    """
    data = clip_bytes(CLIP)
    voice = "english-male-1"

    def over_http() -> bytes:
        reply = voice_to_voice(client, data, voice=voice, response_format="wav")
        assert reply.status_code == 200
        return bytes(reply.content)

    def direct() -> bytes:
        conversion = pipeline.convert(codecs.decode(data), voice)
        return codecs.encode(Audio.concat(list(conversion.speech), 22050), "wav")

    def seconds(work: Callable[[], bytes]) -> float:
        started = time.perf_counter()
        made = work()
        elapsed = time.perf_counter() - started
        assert codecs.decode(made).duration > 0.5
        return elapsed

    over_http(), direct()  # warm: models loaded and caches filled on both sides
    runs = 3
    timings = [(seconds(over_http), seconds(direct)) for _ in range(runs)]
    http_s = statistics.median(t[0] for t in timings)
    direct_s = statistics.median(t[1] for t in timings)
    print(
        f"\nvoice to voice ({CLIP}, {voice}, wav in and out), median of {runs} alternating "
        f"runs: HTTP {http_s * 1000:.0f} ms, direct {direct_s * 1000:.0f} ms, "
        f"ratio {http_s / direct_s:.2f}, overhead {(http_s - direct_s) * 1000:+.0f} ms; "
        f"runs (HTTP, direct) in ms: {[(round(h * 1000), round(d * 1000)) for h, d in timings]}"
    )


def test_upload_declared_too_large_is_refused_before_it_is_read(revoice_server: Server) -> None:
    head = (
        "POST /v1/audio/transcriptions HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{revoice_server.port}\r\n"
        "Content-Type: multipart/form-data; boundary=b0undary\r\n"
        f"Content-Length: {10**9}\r\n"  # far over the 25 MiB default
        "\r\n"
        "--b0undary\r\n"
        'Content-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", revoice_server.port), timeout=5) as sock:
        sock.sendall(head.encode() + bytes(64 * 1024))
        try:
            answer = sock.recv(200)
        except TimeoutError:
            answer = b"(no answer within 5 s: the server is waiting for the rest of the body)"
    assert answer.startswith(b"HTTP/1.1 413"), answer
