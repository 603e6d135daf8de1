"""Sixteen people at once each get their own transcript and their own audio back."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from revoice import codecs
from revoice.audio import Audio
from revoice.config import Settings
from revoice.pipeline import Pipeline
from revoice.server import create_app
from revoice.types import TranscribeOptions
from tests.helpers import normalize
from tests.robustness.conftest import serve_in_thread

NUMBERS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen"
).split()


#: Deterministic voices only: the same text gives the same samples on every run, so whether a
#: number is heard right does not change from run to run (Piper's noise made one in a few
#: hundred runs mishear, which said nothing about isolation). Requests say `language=en`.
INPUT_VOICE = OUTPUT_VOICE = "flite/slt" if shutil.which("flite") else "english-female"


@pytest.fixture(scope="module")
def recordings(pipeline: Pipeline) -> list[tuple[str, bytes]]:
    """Sixteen different recordings, each saying its own number (numbers survive ASR well)."""
    made = []
    for number in NUMBERS:
        audio = Audio.concat(pipeline.speak(f"This is request number {number}.", INPUT_VOICE))
        made.append((number, codecs.encode(audio, "wav")))
    return made


def heard_number(text: str) -> set[str]:
    """The request numbers a transcript mentions."""
    return set(normalize(text).split()) & set(NUMBERS)


@pytest.fixture(scope="module")
def url(settings: Settings, pipeline: Pipeline) -> Iterator[str]:
    app = create_app(
        settings.model_copy(update={"concurrency": 4}),
        Pipeline(settings, models=pipeline.models, catalogue=pipeline.catalogue),
    )
    with serve_in_thread(app) as base:
        yield base


def test_sixteen_concurrent_voice_to_voice_requests(
    url: str, recordings: list[tuple[str, bytes]], pipeline: Pipeline
) -> None:
    def convert(item: tuple[str, bytes]) -> tuple[str, str, bytes]:
        words, data = item
        reply = httpx.post(
            f"{url}/v1/audio/voice-to-voice",
            timeout=300,
            files={"file": ("in.wav", data)},
            data={"voice": OUTPUT_VOICE, "response_format": "wav", "language": "en"},
        )
        assert reply.status_code == 200, reply.text
        return words, unquote(reply.headers["x-revoice-transcript"]), reply.content

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(convert, recordings))
    for number, transcript, audio in results:
        assert heard_number(transcript) == {number}, transcript
        # Whisper base: tiny.en once heard Piper's "fourteen" as "40"
        spoken = pipeline.transcribe(codecs.decode(audio), TranscribeOptions(language="en")).text
        assert heard_number(spoken) == {number}, spoken


def test_sixteen_concurrent_users_of_the_web_page(
    url: str, recordings: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    paths = []
    for i, (_, data) in enumerate(recordings):
        path = tmp_path / f"rec{i}.wav"
        path.write_bytes(data)
        paths.append(path)

    def convert(i: int) -> tuple[str, str]:
        client = Client(f"{url}/", verbose=False)
        transcript, _, audio_path, _ = client.predict(
            handle_file(str(paths[i])),
            OUTPUT_VOICE,
            "en",
            "transcribe",
            1.0,
            "",
            api_name="/convert",
        )
        assert codecs.decode(audio_path).duration > 1
        return recordings[i][0], transcript

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(convert, range(16)))
    for number, transcript in results:
        assert heard_number(transcript) == {number}, transcript
