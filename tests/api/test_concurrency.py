"""Simultaneous requests each get their own result: nothing is mixed up between them."""

from __future__ import annotations

import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.testclient import TestClient

from revoice import codecs
from revoice.audio import Audio
from revoice.pipeline import Pipeline
from tests.api.helpers import REFERENCES, SENTENCES, hear, upload, wav_bytes
from tests.helpers import wer

#: voice to voice: (clip, voice, response_format); Piper and Kokoro voices, both reply shapes
CONVERSIONS = [
    ("librivox-0880.wav", "alloy", "wav"),
    ("librivox-0930.wav", "echo", "json"),
    ("forever.wav", "english-male-1", "wav"),
    ("goforward.raw", "fable", "json"),
]
#: speech: (sentence, voice)
SPEECHES = [
    (SENTENCES[0], "echo"),
    (SENTENCES[1], "alloy"),
    (SENTENCES[2], "nova"),
    (SENTENCES[3], "english-male-1"),
]


@dataclass
class Result:
    said: str  # what the reply says it heard (voice to voice) or was asked to say (speech)
    audio: Audio
    voice: str
    started: float
    finished: float


def test_eight_simultaneous_requests(
    http: TestClient, pipeline: Pipeline, voice_rates: dict[str, int]
) -> None:
    uploads = {clip: wav_bytes(clip) for clip, _, _ in CONVERSIONS}
    barrier = threading.Barrier(len(CONVERSIONS) + len(SPEECHES))

    def convert(clip: str, voice: str, response_format: str) -> Result:
        barrier.wait()
        started = time.monotonic()
        response = http.post(
            "/v1/audio/voice-to-voice",
            files=upload(uploads[clip]),
            data={"voice": voice, "response_format": response_format},
        )
        finished = time.monotonic()
        assert response.status_code == 200, response.text
        if response_format == "json":
            body = response.json()
            transcript, audio = body["transcript"], codecs.decode(base64.b64decode(body["audio"]))
        else:
            transcript = unquote(response.headers["x-revoice-transcript"])
            audio = codecs.decode(response.content)
        return Result(transcript, audio, voice, started, finished)

    def speak(sentence: str, voice: str) -> Result:
        barrier.wait()
        started = time.monotonic()
        response = http.post(
            "/v1/audio/speech",
            json={"model": "tts-1", "input": sentence, "voice": voice, "response_format": "flac"},
        )
        finished = time.monotonic()
        assert response.status_code == 200, response.text
        return Result(sentence, codecs.decode(response.content), voice, started, finished)

    with ThreadPoolExecutor(max_workers=len(CONVERSIONS) + len(SPEECHES)) as pool:
        conversions = [pool.submit(convert, *args) for args in CONVERSIONS]
        speeches = [pool.submit(speak, *args) for args in SPEECHES]
        converted = [f.result(timeout=300) for f in conversions]
        spoken = [f.result(timeout=300) for f in speeches]

    everything = converted + spoken
    # they really were in flight together: every request started before any one finished
    assert max(r.started for r in everything) < min(r.finished for r in everything)
    for (clip, _, _), result in zip(CONVERSIONS, converted, strict=True):
        assert wer([REFERENCES[clip]], [result.said]) <= 0.1, (clip, result.said)
    said = [r.said for r in everything]
    for own, result in enumerate(everything):
        assert result.audio.sample_rate == voice_rates[result.voice]
        assert result.audio.duration > 0.5
        # Piper's output varies run to run, so a slipped word is tolerated; what is heard must
        # still be closest to this request's own words, far from every other request's
        heard = hear(pipeline, result.audio)
        errors = [wer([text], [heard]) for text in said]
        assert errors[own] <= 0.4 and errors[own] == min(errors), (result.said, heard, errors)
        assert sorted(errors)[1] > 0.6, (result.said, heard, errors)
