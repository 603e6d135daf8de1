"""The Wyoming door, driven by the `wyoming` package's client the way Home Assistant's
Wyoming integration drives it (describe, transcribe, synthesize, streamed synthesis)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from wyoming.audio import AudioStart
from wyoming.error import Error
from wyoming.event import Event

from revoice import codecs
from revoice.cli import main
from tests.api.helpers import CLIP, REFERENCES, Server, clip_bytes, free_port, serve_command
from tests.clients import helpers as ha
from tests.clients.conftest import CUSTOM_VOICE, MAX_AUDIO_SECONDS
from tests.helpers import cer, wer

LONG_TEXT = (
    "The library opens at nine in the morning. Please call me back after lunch today. "
    "My sister bought a red bicycle. We walked along the river until sunset."
)
HINDI_SENTENCE = "मुझे किताबें पढ़ना पसंद है।"
SECOND_CLIP = "librivox-0870.wav"


def clip_pcm(name: str) -> bytes:
    return ha.pcm16k(codecs.decode(clip_bytes(name)))


def test_describe_lists_every_voice_and_the_asr_models(server: Server, wyoming_port: int) -> None:
    info = ha.run(ha.describe(wyoming_port))
    listing = httpx.get(f"{server.base_url}/v1/audio/voices", trust_env=False).json()["data"]
    catalogue = {v["id"]: v for v in listing}

    (asr,) = info.asr
    assert asr.installed and asr.supports_transcript_streaming
    models = {m.name: m for m in asr.models}
    assert {"base", "tiny.en"} <= set(models)
    assert {"en", "hi"} <= set(models["base"].languages)
    assert models["tiny.en"].languages == ["en"]
    assert all(m.installed for m in models.values())

    (tts,) = info.tts
    assert tts.installed and tts.supports_synthesize_streaming
    voices = {v.name: v for v in tts.voices}
    assert set(voices) == set(catalogue)  # every voice, the custom one included
    assert voices[CUSTOM_VOICE].languages == ["en"]
    assert voices["hindi-female-1"].languages == catalogue["hindi-female-1"]["languages"]
    for name in ("english-male-1", "english-female", "hindi-female-1", CUSTOM_VOICE):
        assert voices[name].installed, name
    # what Home Assistant offers: per language, the installed voices, by description
    assert (voices[CUSTOM_VOICE].description or "").startswith(CUSTOM_VOICE)


@pytest.mark.parametrize("name", [CLIP, SECOND_CLIP])
def test_transcribes_a_human_clip_sent_in_chunks(wyoming_port: int, name: str) -> None:
    heard = ha.run(ha.transcribe(wyoming_port, clip_pcm(name), language="en"))
    types = heard.types
    assert types[0] == "transcript-start" and types[-1] == "transcript-stop", types
    assert types.count("transcript") == 1 and types.index("transcript") == len(types) - 2
    transcript = heard.transcript
    assert transcript.language == "en"
    assert wer([REFERENCES[name]], [transcript.text]) <= 0.15, transcript.text
    assert heard.chunks and "".join(heard.chunks) == transcript.text


def test_the_requested_language_is_honoured(server: Server, wyoming_port: int) -> None:
    spoken = ha.run(ha.synthesize(wyoming_port, HINDI_SENTENCE, "hindi-female-2"))
    pcm = ha.pcm16k(spoken.audio)
    heard = ha.run(ha.transcribe(wyoming_port, pcm, language="hi"))
    text = heard.transcript.text
    assert heard.transcript.language == "hi"
    assert re.search(r"[\u0900-\u097F]", text), text  # Devanagari, not Urdu script
    assert cer(HINDI_SENTENCE, text) <= 0.5, text
    # a regional code, as some clients send it, means the language
    again = ha.run(ha.transcribe(wyoming_port, pcm, language="hi-IN"))
    assert again.transcript.language == "hi"


@pytest.mark.parametrize("voice", ["english-male-1", "english-female", CUSTOM_VOICE])
def test_synthesize_says_the_text(server: Server, wyoming_port: int, voice: str) -> None:
    text = "Please call me back after lunch today."
    spoken = ha.run(ha.synthesize(wyoming_port, text, voice))
    assert spoken.types[0] == "audio-start" and spoken.types[-1] == "audio-stop", spoken.types
    assert spoken.types.count("audio-start") == 1
    rates = {v["id"]: v["sample_rate"] for v in _voices(server)}
    start = spoken.start
    assert (start.rate, start.width, start.channels) == (rates[voice], 2, 1)
    audio = codecs.decode(spoken.wav())
    assert 1.0 < audio.duration < 8.0
    heard = ha.hear(server, audio)
    assert wer([text], [heard]) <= 0.15, heard


def test_a_long_text_streamed_is_spoken_as_it_comes(server: Server, wyoming_port: int) -> None:
    words = LONG_TEXT.split(" ")
    parts = [w if i == 0 else f" {w}" for i, w in enumerate(words)]  # as an LLM streams it
    streamed = ha.run(
        ha.synthesize_streamed(
            wyoming_port, parts, "english-female", hold=lambda s: "audio-chunk" in s.types
        )
    )
    types = streamed.types
    assert types[-1] == "synthesize-stopped", types
    assert "error" not in types
    first_audio = next(t for t, e in streamed.events if e.type == "audio-chunk")
    assert first_audio < streamed.text_done_at  # the first sentences played before the rest came
    assert types.count("audio-start") == types.count("audio-stop") >= 2
    heard = ha.hear(server, streamed.audio)
    # every word once: the whole text repeated in `synthesize` was not spoken again
    assert wer([LONG_TEXT], [heard]) <= 0.15, heard


def test_a_bad_event_gets_an_error_and_the_next_request_works(wyoming_port: int) -> None:
    async def errors() -> list[tuple[str, str | None, bool]]:
        found = []
        bad = [
            [Event("audio-start", {"width": 2, "channels": 1})],  # no rate
            [Event("audio-stop")],  # no audio-start
            [Event("synthesize", {"text": "Hello.", "voice": {"name": "no-such-voice"}})],
            [Event("synthesize", {"voice": {"name": "english-female"}})],  # no text
            [Event("transcribe", {"language": "english!"})],
            [Event("audio-start", {"rate": 16000, "width": 3, "channels": 1})],
        ]
        for events in bad:
            async with ha.client(wyoming_port) as wy:
                for event in events:
                    await wy.write_event(event)
                if events[0].type == "transcribe":
                    await wy.write_event(AudioStart(rate=16000, width=2, channels=1).event())
                reply = await wy.read_event()
                assert reply is not None and Error.is_type(reply.type), (events, reply)
                error = Error.from_event(reply)
                closed = await wy.read_event() is None
                found.append((error.text, error.code, closed))
        return found

    found = ha.run(errors())
    codes = [code for _, code, _ in found]
    assert codes == [
        "bad_event",
        "bad_event",
        "unknown_voice",
        "bad_event",
        "invalid_option",
        "unsupported_audio",
    ], found
    assert all(text and closed for text, _, closed in found), found
    assert "no-such-voice" in found[2][0]
    # the server goes on
    heard = ha.run(ha.transcribe(wyoming_port, clip_pcm(CLIP), language="en"))
    assert wer([REFERENCES[CLIP]], [heard.transcript.text]) <= 0.15


def test_audio_over_the_limit_is_refused(wyoming_port: int) -> None:
    heard = ha.run(ha.transcribe(wyoming_port, ha.silence(MAX_AUDIO_SECONDS + 1)))
    assert heard.types == ["error"], heard.types
    assert heard.events[0].data["code"] == "input_too_large"


def test_two_clients_at_once_get_their_own_results(server: Server, wyoming_port: int) -> None:
    text = "My sister bought a red bicycle."

    async def together() -> tuple[ha.Heard, ha.Heard, ha.Spoken]:
        return await asyncio.gather(
            ha.transcribe(wyoming_port, clip_pcm(CLIP), language="en"),
            ha.transcribe(wyoming_port, clip_pcm(SECOND_CLIP), language="en"),
            ha.synthesize(wyoming_port, text, "english-male-1"),
        )

    first, second, spoken = ha.run(together())
    assert wer([REFERENCES[CLIP]], [first.transcript.text]) <= 0.15, first.transcript
    assert wer([REFERENCES[SECOND_CLIP]], [second.transcript.text]) <= 0.15, second.transcript
    assert wer([text], [ha.hear(server, spoken.audio)]) <= 0.15


def test_no_http_needs_a_wyoming_address(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--no-http"]) == 2
    assert "--wyoming" in capsys.readouterr().err
    assert main(["serve", "--wyoming", "http://0.0.0.0:10300"]) == 2
    assert "tcp://" in capsys.readouterr().err


def _voices(server: Server) -> list[dict[str, object]]:
    listing = httpx.get(f"{server.base_url}/v1/audio/voices", trust_env=False).json()
    return list(listing["data"])


def test_serve_with_no_http_serves_only_wyoming(revoice_home: Path, tmp_path: Path) -> None:
    port, http_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVOICE_")}
    env.update(REVOICE_HOME=str(revoice_home), REVOICE_VOICES=str(tmp_path / "none.toml"))
    command = [*serve_command(), "serve", "--port", str(http_port), "--no-http"]
    process = subprocess.Popen(
        [*command, "--wyoming", f"tcp://127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        info = None
        deadline = time.monotonic() + 120
        while info is None and time.monotonic() < deadline and process.poll() is None:
            try:
                info = ha.run(ha.describe(port))
            except OSError:
                time.sleep(0.25)
        assert info is not None, process.poll()
        assert info.asr and info.tts and len(info.tts[0].voices) >= 7
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{http_port}/health", trust_env=False)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0].decode(errors="replace")
    assert process.returncode == 0, output
    assert f"Wyoming (Home Assistant) on tcp://127.0.0.1:{port}" in output
