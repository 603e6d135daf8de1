"""The HTTP API as the clients people run use it: OpenAI's `pcm`, Open WebUI's audio router
and SillyTavern's TTS provider (their requests replayed from their source), and the OpenAI
STT/TTS classes of Pipecat and LiveKit (their own code, against the real server)."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil

import httpx
import openai
import pytest

from revoice import codecs
from revoice.audio import Audio
from tests.api.helpers import CLIP, REFERENCES, Server, clip_bytes
from tests.clients import helpers as ha
from tests.helpers import wer

TEXT = "Please call me back after lunch today."
#: Piper joe (22,050 Hz), the default voice
VOICES = {"english-male-1": 22050}
#: how close two syntheses' durations are: Kokoro says a text the same way every time; Piper's
#: duration predictor samples noise (up to 4 % apart here). pcm at the voice's rate played at
#: 24 kHz would be 8.1 % short (22,050 / 24,000)
SAME = {"english-male-1": 0.05, "english-female": 0.01, "flite/slt": 0.01}
#: deterministic voices whose rate is not 24 kHz's and voices that are (for voice to voice,
#: whose longer speech makes Piper's spread too wide to tell a wrong rate from noise)
EXACT = {"flite/slt": 16000, "english-female": 24000}


def http(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=ha.READ_TIMEOUT, trust_env=False)


def sdk(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused", max_retries=0)


# OpenAI's pcm: 24 kHz s16le mono, whatever the voice


@pytest.mark.parametrize("voice", [*EXACT, *VOICES])
def test_pcm_is_24_khz_and_lasts_as_long_as_the_wav(server: Server, voice: str) -> None:
    if voice.startswith("flite/") and shutil.which("flite") is None:
        pytest.skip("flite is not installed (Debian package `flite`; make test installs it)")
    rates = {**VOICES, **EXACT}
    client = sdk(server)
    wav = client.audio.speech.create(model="tts-1", voice=voice, input=TEXT, response_format="wav")
    pcm = client.audio.speech.create(model="tts-1", voice=voice, input=TEXT, response_format="pcm")
    reference = codecs.decode(wav.content)
    assert reference.sample_rate == rates[voice]
    assert pcm.response.headers["x-revoice-sample-rate"] == "24000"
    at_24k = codecs.decode_pcm(pcm.content, 24000)
    assert wer([TEXT], [ha.hear(server, at_24k)]) <= 0.15
    # the voice's own rate, for clients that want it
    with http(server) as raw:
        body = {"model": "tts-1", "voice": voice, "input": TEXT, "response_format": "pcm_native"}
        native = raw.post("/v1/audio/speech", json=body)
    assert native.headers["x-revoice-sample-rate"] == str(rates[voice])
    at_native = codecs.decode_pcm(native.content, rates[voice])
    if voice in EXACT:  # the same speech each time: the lengths must agree
        assert at_24k.duration == pytest.approx(reference.duration, rel=SAME[voice])
        assert at_native.duration == pytest.approx(reference.duration, rel=SAME[voice])
    # Piper samples its durations afresh each time (up to 5 % apart, a wrong rate is 8.1 %):
    # its pcm is checked by ear above, and its length only roughly
    else:
        assert at_24k.duration == pytest.approx(reference.duration, rel=0.2)


@pytest.mark.parametrize("voice", list(EXACT))
def test_voice_to_voice_pcm_is_24_khz(server: Server, voice: str) -> None:
    if voice.startswith("flite/") and shutil.which("flite") is None:
        pytest.skip("flite is not installed (Debian package `flite`; make test installs it)")
    with http(server) as client:
        replies = {
            fmt: client.post(
                "/v1/audio/voice-to-voice",
                files={"file": ("clip.wav", clip_bytes(CLIP), "audio/wav")},
                data={"voice": voice, "response_format": fmt, "language": "en"},
            )
            for fmt in ("wav", "pcm")
        }
    for reply in replies.values():
        assert reply.status_code == 200, reply.text
    reference = codecs.decode(replies["wav"].content)
    assert replies["pcm"].headers["x-revoice-sample-rate"] == "24000"
    at_24k = codecs.decode_pcm(replies["pcm"].content, 24000)
    assert at_24k.duration == pytest.approx(reference.duration, rel=SAME[voice])


def test_verbose_json_has_word_timestamps(server: Server) -> None:
    result = sdk(server).audio.transcriptions.create(
        model="whisper-1",
        file=("clip.wav", clip_bytes(CLIP)),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert wer([REFERENCES[CLIP]], [result.text]) <= 0.15
    words = result.words or []
    assert len(words) >= 6
    assert all(0 <= w.start <= w.end <= result.duration + 0.05 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert result.segments and result.language in ("en", "english")


# Open WebUI (backend/open_webui/routers/audio.py), its requests replayed


def test_open_webui_audio_router(server: Server) -> None:
    base = f"{server.base_url}/v1"  # what a user types as the API base URL
    auth = {"Authorization": "Bearer sk-unused"}
    with httpx.Client(timeout=ha.READ_TIMEOUT, trust_env=False) as client:
        # get_available_models: GET {base}/audio/models, reads data["models"]
        models = client.get(f"{base}/audio/models", headers=auth).json()
        assert {"tts-1", "tts-1-hd", "piper", "kokoro"} <= {m["id"] for m in models["models"]}
        assert models["object"] == "list" and models["data"]  # OpenAI's shape is still there
        # get_available_voices: GET {base}/audio/voices, {voice["id"]: voice["name"]}
        listing = client.get(f"{base}/audio/voices", headers=auth).json()
        voices = {voice["id"]: voice["name"] for voice in listing["voices"]}
        assert {"english-female", "hindi-female-1", "kokoro/jf_alpha"} <= set(voices)
        assert {v["id"] for v in listing["data"]} == set(voices)
        # speech: the browser's {input, voice}, the configured model added; saved as .mp3
        payload = {"input": TEXT, "voice": "english-female", "model": "tts-1"}
        headers = {"Content-Type": "application/json", **auth}
        reply = client.post(f"{base}/audio/speech", content=json.dumps(payload), headers=headers)
        reply.raise_for_status()
        mp3 = reply.content
        assert mp3[:3] == b"ID3" or mp3[0] == 0xFF  # an MP3 stream, as the file name says
        assert wer([TEXT], [ha.hear(server, codecs.decode(mp3))]) <= 0.15
        # transcription: files={"file": (name, file)}, data={"model": STT_MODEL}; reads json
        heard = client.post(
            f"{base}/audio/transcriptions",
            headers=auth,
            files={"file": ("3f2a.wav", clip_bytes(CLIP))},
            data={"model": "whisper-1"},
        )
        heard.raise_for_status()
        assert wer([REFERENCES[CLIP]], [heard.json()["text"]]) <= 0.15


# SillyTavern's "OpenAI Compatible" TTS provider (openai-compatible.js), replayed


def test_sillytavern_openai_compatible_tts(server: Server) -> None:
    endpoint = f"{server.base_url}/v1/audio/speech"  # its "Provider Endpoint" is the full URL
    body = {
        "model": "tts-1",
        "input": TEXT,
        # its "Available Voices" are typed in: any revoice id (an English one for English text:
        # hindi-female-1 read this as "after last day")
        "voice": "english-male-2",
        "response_format": "mp3",
        "speed": 1,
    }
    with httpx.Client(timeout=ha.READ_TIMEOUT, trust_env=False) as client:
        reply = client.post(endpoint, json=body, headers={"Authorization": "Bearer unused"})
    assert reply.status_code == 200 and reply.headers["content-type"] == "audio/mpeg"
    assert wer([TEXT], [ha.hear(server, codecs.decode(reply.content))]) <= 0.25


# Pipecat's OpenAI services (pipecat-ai), in a Pipecat pipeline


def _pipecat() -> None:
    pytest.importorskip("pipecat.services.openai.tts", reason="pipecat-ai is not installed")


def test_pipecat_openai_tts_plays_at_24_khz(server: Server) -> None:
    _pipecat()
    from tests.clients import pipecat_run

    for voice in ("echo", "alloy"):  # Piper joe (22,050 Hz) and Kokoro, both played at 24 kHz
        pcm, rates, errors = asyncio.run(pipecat_run.speak(f"{server.base_url}/v1", voice, TEXT))
        assert not errors and rates == {24000}
        audio = codecs.decode_pcm(pcm, 24000)
        assert 1.0 < audio.duration < 6.0
        assert wer([TEXT], [ha.hear(server, audio)]) <= 0.15, voice


def test_pipecat_openai_stt(server: Server) -> None:
    _pipecat()
    from tests.clients import pipecat_run

    clip = codecs.decode(clip_bytes(CLIP))
    texts, errors = asyncio.run(pipecat_run.hear(f"{server.base_url}/v1", clip))
    assert not errors, errors
    assert wer([REFERENCES[CLIP]], [" ".join(texts)]) <= 0.15, texts


# LiveKit Agents' OpenAI plugin (livekit-plugins-openai)


def _livekit() -> None:
    pytest.importorskip("livekit.plugins.openai", reason="livekit-plugins-openai is not installed")


@pytest.mark.parametrize("model", ["tts-1", "gpt-4o-mini-tts"])  # audio stream / sse events
def test_livekit_openai_tts(server: Server, model: str) -> None:
    _livekit()
    from tests.clients import livekit_run

    audio = asyncio.run(livekit_run.speak(f"{server.base_url}/v1", model, TEXT))
    assert 1.0 < audio.duration < 6.0
    assert wer([TEXT], [ha.hear(server, audio)]) <= 0.15


@pytest.mark.parametrize("model", ["whisper-1", "gpt-4o-mini-transcribe"])  # verbose_json / json
def test_livekit_openai_stt(server: Server, model: str) -> None:
    _livekit()
    from tests.clients import livekit_run

    clip = codecs.decode(clip_bytes(CLIP))
    text, language = asyncio.run(livekit_run.hear(f"{server.base_url}/v1", model, clip))
    assert wer([REFERENCES[CLIP]], [text]) <= 0.15, text
    assert language.startswith("en")


def test_speech_sse_events_carry_the_audio(server: Server) -> None:
    body = {"model": "tts-1", "voice": "alloy", "input": TEXT, "stream_format": "sse"}
    body["response_format"] = "pcm"
    with http(server) as client:
        reply = client.post("/v1/audio/speech", json=body)
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in reply.text.splitlines() if line.startswith("data:")]
    assert [e["type"] for e in events[-1:]] == ["speech.audio.done"]
    pcm = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert Audio.concat([codecs.decode_pcm(pcm, 24000)]).duration > 1.0
