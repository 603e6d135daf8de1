"""The official openai SDK drives every /v1 endpoint of the app, in process."""

from __future__ import annotations

import base64
import re
from urllib.parse import unquote

import openai
import pytest
from starlette.testclient import TestClient

from revoice import codecs
from revoice.pipeline import Pipeline
from revoice.voices import OPENAI_VOICES
from tests.api.helpers import (
    CLIP,
    CLIP_SECONDS,
    HINDI_GIST,
    HINDI_SENTENCE,
    REFERENCES,
    SENTENCES,
    SRT_STAMP,
    VTT_STAMP,
    assert_says,
    check_cues,
    clip_bytes,
    cues,
    voice_to_voice,
)
from tests.helpers import cer, normalize, wer

# transcriptions


def test_transcription_json(sdk: openai.OpenAI) -> None:
    result = sdk.audio.transcriptions.create(file=(CLIP, clip_bytes(CLIP)), model="whisper-1")
    assert isinstance(result, openai.types.audio.Transcription)
    assert wer([REFERENCES[CLIP]], [result.text]) <= 0.1


def test_transcription_text(sdk: openai.OpenAI) -> None:
    text = sdk.audio.transcriptions.create(
        file=(CLIP, clip_bytes(CLIP)), model="whisper-1", response_format="text"
    )
    assert isinstance(text, str)
    assert wer([REFERENCES[CLIP]], [text]) <= 0.1


def test_transcription_srt(sdk: openai.OpenAI) -> None:
    srt = sdk.audio.transcriptions.create(
        file=(CLIP, clip_bytes(CLIP)), model="whisper-1", response_format="srt"
    )
    assert isinstance(srt, str) and srt.startswith("1\n00:00:")
    check_cues(cues(srt, SRT_STAMP), REFERENCES[CLIP], CLIP_SECONDS)
    for block in srt.strip("\n").split("\n\n"):  # subtitle size: two lines of 42 at most
        lines = block.split("\n")[2:]
        assert 1 <= len(lines) <= 2 and all(len(line) <= 42 for line in lines), block


def test_transcription_vtt(sdk: openai.OpenAI) -> None:
    vtt = sdk.audio.transcriptions.create(
        file=(CLIP, clip_bytes(CLIP)), model="whisper-1", response_format="vtt"
    )
    assert isinstance(vtt, str) and vtt.startswith("WEBVTT\n\n")
    check_cues(cues(vtt, VTT_STAMP), REFERENCES[CLIP], CLIP_SECONDS)


def test_transcription_verbose_json(sdk: openai.OpenAI) -> None:
    result = sdk.audio.transcriptions.create(
        file=(CLIP, clip_bytes(CLIP)), model="whisper-1", response_format="verbose_json"
    )
    assert isinstance(result, openai.types.audio.TranscriptionVerbose)
    assert result.language == "en"
    assert result.duration == pytest.approx(CLIP_SECONDS, abs=0.05)
    assert wer([REFERENCES[CLIP]], [result.text]) <= 0.1
    assert result.segments and result.segments[0].start >= 0
    assert wer([REFERENCES[CLIP]], [" ".join(s.text for s in result.segments)]) <= 0.1
    assert not result.words  # only with timestamp_granularities=["word"]
    for segment in result.segments:  # Whisper's own values, not placeholders
        assert segment.tokens and all(isinstance(t, int) for t in segment.tokens)
        assert segment.compression_ratio > 0 and segment.temperature == 0.0
        assert isinstance(segment.seek, int)


def test_transcription_word_timestamps(sdk: openai.OpenAI) -> None:
    result = sdk.audio.transcriptions.create(
        file=(CLIP, clip_bytes(CLIP)),
        model="whisper-1",
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert result.words and result.segments
    assert wer([REFERENCES[CLIP]], [" ".join(w.word for w in result.words)]) <= 0.1
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(w.start <= w.end <= CLIP_SECONDS + 0.05 for w in result.words)


def test_transcription_streamed(sdk: openai.OpenAI) -> None:
    stream = sdk.audio.transcriptions.create(
        file=(CLIP, clip_bytes(CLIP)), model="whisper-1", stream=True
    )
    events = list(stream)
    assert [e.type for e in events[:-1]] == ["transcript.text.delta"] * (len(events) - 1)
    assert len(events) >= 2 and events[-1].type == "transcript.text.done"
    deltas = "".join(e.delta for e in events[:-1])
    assert deltas.strip() == events[-1].text
    assert wer([REFERENCES[CLIP]], [events[-1].text]) <= 0.1


def test_translation_to_english(sdk: openai.OpenAI, hindi_wav: bytes) -> None:
    result = sdk.audio.translations.create(file=("hindi.wav", hindi_wav), model="whisper-1")
    assert re.fullmatch(r"[\x00-\x7F]+", result.text), result.text
    # Whisper base translating accented synthetic Hindi is rough: the gist must come through
    assert len(HINDI_GIST & set(normalize(result.text).split())) >= 2, result.text


# speech


@pytest.mark.parametrize("fmt", list(codecs.FORMATS))  # OpenAI's six, ogg, m4a, pcm_native
def test_speech_format(
    sdk: openai.OpenAI, pipeline: Pipeline, voice_rates: dict[str, int], fmt: str
) -> None:
    text = SENTENCES[0]
    reply = sdk.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input=text,
        response_format=fmt,  # type: ignore[arg-type]
    )
    assert reply.response.headers["content-type"] == codecs.FORMATS[fmt].mime
    rate = voice_rates["alloy"]
    assert rate == 24000  # alloy is english-female, a Kokoro voice
    raw = fmt.startswith("pcm")
    audio = codecs.decode_pcm(reply.content, rate) if raw else codecs.decode(reply.content)
    # Opus decoders always give 48 kHz (RFC 7845); every other format keeps the voice's rate
    assert audio.sample_rate == (48000 if fmt in ("opus", "ogg") else rate)
    assert audio.duration > 0.5
    assert_says(pipeline, audio, text)


def test_speech_streamed_in_chunks(sdk: openai.OpenAI, pipeline: Pipeline) -> None:
    text = " ".join(SENTENCES[:3])
    with sdk.audio.speech.with_streaming_response.create(
        model="tts-1", voice="echo", input=text, response_format="wav"
    ) as response:
        assert response.status_code == 200
        chunks = [chunk for chunk in response.iter_bytes() if chunk]
    assert len(chunks) >= 3  # one per sentence at least
    audio = codecs.decode(b"".join(chunks))  # a streamed WAV, its header of unknown length
    assert audio.duration > 3.0
    assert_says(pipeline, audio, text)


@pytest.mark.parametrize(
    ("model", "voice"),
    [
        ("tts-1", "alloy"),
        ("tts-1-hd", "echo"),
        ("tts-1", "fable"),
        ("tts-1-hd", "onyx"),
        ("tts-1", "nova"),
        ("tts-1-hd", "shimmer"),
    ],
)
def test_openai_voice_and_model_names(
    sdk: openai.OpenAI, voice_rates: dict[str, int], model: str, voice: str
) -> None:
    reply = sdk.audio.speech.create(
        model=model, voice=voice, input="Good morning.", response_format="wav"
    )
    audio = codecs.decode(reply.content)
    assert audio.sample_rate == voice_rates[voice]
    assert audio.duration > 0.4


# catalog


def test_models_list(sdk: openai.OpenAI) -> None:
    models = {m.id: m for m in sdk.models.list()}
    assert {"whisper-1", "tts-1", "tts-1-hd", "base", "kokoro", "piper"} <= set(models)
    assert all(m.object == "model" for m in models.values())
    assert sdk.models.retrieve("whisper-1").id == "whisper-1"


def test_voices_list(sdk: openai.OpenAI) -> None:
    listing = sdk.get("/audio/voices", cast_to=object)
    assert listing["object"] == "list"
    voices = {v["id"]: v for v in listing["data"]}
    assert set(OPENAI_VOICES.values()) <= set(voices)
    assert voices["english-female"]["engine"] == "kokoro"
    assert voices["english-female"]["sample_rate"] == 24000
    assert voices["english-male-1"]["engine"] == "piper"
    for voice in voices.values():
        assert {"id", "name", "engine", "languages", "gender", "sample_rate"} <= set(voice)


# voice to voice


def test_voice_to_voice_streamed(sdk: openai.OpenAI, pipeline: Pipeline) -> None:
    reply = voice_to_voice(sdk, clip_bytes(CLIP), voice="alloy", response_format="wav")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "audio/wav"
    assert reply.headers["x-revoice-voice"] == "english-female"
    assert reply.headers["x-revoice-language"] == "en"
    transcript = unquote(reply.headers["x-revoice-transcript"])
    assert wer([REFERENCES[CLIP]], [transcript]) <= 0.1
    assert unquote(reply.headers["x-revoice-text"]) == transcript  # no text step
    audio = codecs.decode(reply.content)
    assert audio.sample_rate == 24000
    assert audio.duration > 0.5
    assert_says(pipeline, audio, transcript)


def test_voice_to_voice_json(sdk: openai.OpenAI) -> None:
    name = "cards-003.wav"  # "seven of clubs"
    reply = voice_to_voice(
        sdk,
        clip_bytes(name),
        cast_to=object,
        voice="echo",
        response_format="json",
        audio_format="flac",
    )
    assert set(reply) == {
        "transcript",
        "text",
        "language",
        "voice",
        "format",
        "sample_rate",
        "audio",
    }
    assert wer([REFERENCES[name]], [reply["transcript"]]) <= 0.1
    assert reply["text"] == reply["transcript"]  # no text step: the words said are the words heard
    assert (reply["language"], reply["voice"], reply["format"]) == ("en", "english-male-1", "flac")
    audio = codecs.decode(base64.b64decode(reply["audio"]))
    assert audio.sample_rate == reply["sample_rate"] == 22050
    assert audio.duration > 0.5


def test_voice_to_voice_transcript_header_is_percent_encoded_utf8(
    http: TestClient, hindi_wav: bytes
) -> None:
    response = http.post(
        "/v1/audio/voice-to-voice",
        files={"file": ("hindi.wav", hindi_wav)},
        data={"voice": "hindi-male-1", "response_format": "mp3"},
    )
    assert response.status_code == 200, response.text
    raw = response.headers["x-revoice-transcript"]
    assert raw.isascii() and "%" in raw
    transcript = unquote(raw)
    assert re.search(r"[\u0900-\u097F]", transcript), transcript
    assert cer(HINDI_SENTENCE, transcript) <= 0.5
    assert response.headers["x-revoice-language"] == "hi"
    assert codecs.decode(response.content).duration > 0.5


# the rest of the app


def test_health_docs_and_openapi(http: TestClient) -> None:
    health = http.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    docs = http.get("/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    paths = set(http.get("/openapi.json").json()["paths"])
    assert {
        "/v1/audio/transcriptions",
        "/v1/audio/translations",
        "/v1/audio/speech",
        "/v1/audio/voice-to-voice",
        "/v1/audio/voices",
        "/v1/models",
        "/v1/models/{model_id}",
    } <= paths
