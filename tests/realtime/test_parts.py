"""The pieces of the realtime door on their own: wire formats, turn detection on real speech,
stable partials (LocalAgreement), session updates, and the session time limits."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from revoice.api.deps import Runtime
from revoice.audio import Audio
from revoice.config import Settings
from revoice.errors import InvalidOption
from revoice.pipeline import Pipeline
from revoice.realtime import door
from revoice.realtime.formats import AudioFormat, parse_format
from revoice.realtime.hearing import LiveTranscript, sentences_end
from revoice.realtime.responses import Request, Response
from revoice.realtime.session import SessionConfig, apply_update
from revoice.realtime.turns import ServerVad, StreamingVad, TurnDetector
from revoice.types import Segment, Transcript, Word
from tests.helpers import Clip
from tests.realtime.helpers import joined, speech_only

# wire formats


@pytest.mark.parametrize("kind", ["audio/pcmu", "audio/pcma"])
def test_g711_round_trip(kind: str) -> None:
    fmt = AudioFormat(kind, 8000)  # type: ignore[arg-type]
    tone = 0.5 * np.sin(np.linspace(0, 200 * np.pi, 8000)).astype(np.float32)
    data = fmt.encode(tone)
    assert len(data) == 8000
    back = fmt.decode(data)
    assert np.max(np.abs(back - tone)) < 0.02  # G.711 keeps about 13 bits near full scale
    assert fmt.decode(fmt.encode(np.zeros(4, np.float32))).max() < 0.001


def test_pcm16_and_format_names() -> None:
    fmt = parse_format({"type": "audio/pcm", "rate": 24000}, "f")
    samples = np.array([0.0, 0.5, -0.5, 1.0], np.float32)
    assert np.allclose(fmt.decode(fmt.encode(samples)), samples, atol=1e-4)
    assert parse_format("pcm16", "f") == AudioFormat("audio/pcm", 24000)  # beta names
    assert parse_format("g711_ulaw", "f") == AudioFormat("audio/pcmu", 8000)
    assert parse_format({"type": "audio/pcma"}, "f").describe() == {"type": "audio/pcma"}
    with pytest.raises(InvalidOption) as bad:
        parse_format({"type": "audio/pcm", "rate": 12345}, "session.audio.input.format")
    assert bad.value.param == "session.audio.input.format.rate"
    with pytest.raises(InvalidOption):
        fmt.decode(b"\x00\x01\x02")  # half a sample


# turn detection on real speech


def _edges(audio: Audio, vad: ServerVad) -> list[tuple[str, int]]:
    stream, detector = StreamingVad(), TurnDetector(vad)
    edges = []
    for start in range(0, len(audio.samples), 1600):  # 100 ms appends
        for edge in detector.push(stream.push(audio.samples[start : start + 1600])):
            edges.append((edge.kind, edge.ms))
    return edges


def test_streaming_vad_matches_one_pass(clips: list[Clip]) -> None:
    from faster_whisper.vad import get_vad_model

    samples = clips[0].audio.resample(16000).samples
    whole = len(samples) // 512 * 512
    expected = get_vad_model()(samples[:whole]).reshape(-1)
    stream = StreamingVad()
    pieces = [stream.push(samples[i : i + 1234]) for i in range(0, whole, 1234)]
    got = np.concatenate(pieces)[: len(expected)]
    assert np.allclose(got, expected, atol=1e-5)


def test_a_pause_shorter_than_the_silence_keeps_the_turn(clips: list[Clip]) -> None:
    first, second = (speech_only(c) for c in clips[1:3])
    audio = joined([0.5, first, 0.3, second, 1.0])
    edges = _edges(audio, ServerVad(silence_duration_ms=500))
    assert [kind for kind, _ in edges] == ["started", "stopped"]
    start, stop = edges[0][1], edges[1][1]
    assert abs(start - 500) <= 100
    speech_ms = 1000 * (len(first) + len(second)) / 16000 + 300
    assert abs(stop - (500 + speech_ms)) <= 250  # where the last word fades out


def test_a_longer_pause_ends_the_turn(clips: list[Clip]) -> None:
    first, second = (speech_only(c) for c in clips[1:3])
    audio = joined([0.5, first, 0.9, second, 1.0])
    kinds = [kind for kind, _ in _edges(audio, ServerVad(silence_duration_ms=500))]
    assert kinds == ["started", "stopped", "started", "stopped"]


def test_silence_and_quiet_noise_start_no_turn() -> None:
    rng = np.random.default_rng(0)
    noise = Audio((0.003 * rng.standard_normal(48000)).astype(np.float32), 16000)
    assert _edges(noise, ServerVad()) == []


# stable partials


def _hypothesis(words: list[tuple[str, float, float]]) -> Transcript:
    ws = tuple(Word(start, end, f" {text}", 0.9) for text, start, end in words)
    end = ws[-1].end if ws else 0.0
    segment = Segment(0, 0.0, end, "".join(w.word for w in ws).strip(), words=ws)
    return Transcript(segment.text, "en", end + 0.5, (segment,))


def test_local_agreement_sends_only_what_two_hypotheses_agree_on() -> None:
    live = LiveTranscript(window_seconds=12)
    a = [("the", 0.0, 0.2), ("cat", 0.3, 0.5)]
    assert live.update(0, _hypothesis(a)) == ""  # nothing to agree with yet
    b = [("the", 0.0, 0.2), ("cat", 0.3, 0.5), ("sat", 0.6, 0.8)]
    assert live.update(0, _hypothesis(b)) == "the cat"
    c = [("the", 0.0, 0.2), ("cat", 0.3, 0.5), ("sang", 0.6, 0.8), ("on", 0.9, 1.0)]
    assert live.update(0, _hypothesis(c)) == ""  # "sat" / "sang" disagree: wait
    d = [("the", 0.0, 0.2), ("kat", 0.3, 0.5), ("sang", 0.6, 0.8), ("on", 0.9, 1.0)]
    assert live.update(0, _hypothesis(d)) == " sang on"  # a sent word is never taken back
    e = [*d, ("the", 1.1, 1.2), ("mat.", 1.3, 1.5)]
    assert live.finish(0, _hypothesis(e)) == " the mat."
    assert live.text == "the cat sang on the mat."


def test_a_first_word_heard_only_once_does_not_hold_back_the_rest() -> None:
    live = LiveTranscript()
    live.update(0, _hypothesis([("And", 0.0, 0.2), ("Mr.", 0.3, 0.5), ("John", 0.6, 0.8)]))
    later = [("Mr.", 0.3, 0.5), ("John", 0.6, 0.8), ("Dashwood", 0.9, 1.3)]
    assert live.update(0, _hypothesis(later)) == "Mr. John"
    assert live.update(0, _hypothesis(later)) == " Dashwood"


def test_the_window_slides_after_a_sentence_so_cost_stays_bounded() -> None:
    live = LiveTranscript(window_seconds=4)
    said = [("One", 0.0, 0.4), ("two.", 0.5, 1.0), ("Three", 2.6, 3.0), ("four", 3.1, 3.4)]
    live.update(0, _hypothesis(said))
    live.update(0, _hypothesis(said))  # agreed: "One two. Three four", 3.9 s long
    assert live.offset > 1.0 * 16000  # the next window starts after "two."
    assert live.offset < 2.6 * 16000
    # later hypotheses of the window only (times from its start) add only new words
    offset = live.offset
    shift = offset / 16000
    tail = [
        ("Three", 2.6 - shift, 3.0 - shift),
        ("four", 3.1 - shift, 3.4 - shift),
        ("five.", 3.6 - shift, 4.0 - shift),
    ]
    assert live.finish(offset, _hypothesis(tail)) == " five."
    assert live.text == "One two. Three four five."


def test_an_abbreviation_is_not_a_sentence_end() -> None:
    live = LiveTranscript(window_seconds=2)
    said = [("And", 0.0, 0.2), ("Mr.", 0.3, 0.6), ("John", 0.7, 1.0), ("Smith", 1.1, 1.4)]
    live.update(0, _hypothesis(said))
    live.update(0, _hypothesis(said))
    assert live.offset == 0 or live.offset >= round(1.05 * 16000)  # never just after "Mr."


def test_whole_sentences_of_a_growing_transcript() -> None:
    """What a live session may say: the whole sentences after what it said before."""
    text = "Please call me back. Dr. Smith said 3.5 is fine! And then"
    first = sentences_end(text)
    assert text[:first] == "Please call me back. Dr. Smith said 3.5 is fine!"
    assert sentences_end(text, first) == first  # "And then" is not whole yet
    assert sentences_end("I met Dr. Smith at 3.5") == 0
    hindi = "यह एक वाक्य है। दूसरा"
    assert hindi[: sentences_end(hindi)] == "यह एक वाक्य है।"


# session updates


def test_session_update_in_ga_and_beta_shapes() -> None:
    config = apply_update(
        SessionConfig(),
        {
            "type": "realtime",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": {"model": "tiny.en", "language": "en"},
                    "turn_detection": {
                        "type": "server_vad",
                        "silence_duration_ms": 700,
                        "create_response": False,
                    },
                },
                "output": {"voice": "alloy", "speed": 1.2},
            },
            "revoice": {"mode": "reply"},
        },
    )
    assert config.input_format == AudioFormat("audio/pcmu", 8000)
    assert config.transcription_model == "tiny.en" and config.language == "en"
    assert config.turn_detection is not None
    assert config.turn_detection.silence_duration_ms == 700
    assert not config.turn_detection.create_response
    assert config.voice == "alloy" and config.speed == 1.2 and config.mode == "reply"
    beta = apply_update(
        config,
        {
            "input_audio_format": "pcm16",
            "turn_detection": None,
            "voice": "echo",
            "modalities": ["text"],
        },
    )
    assert beta.input_format == AudioFormat() and beta.turn_detection is None
    assert beta.voice == "echo" and beta.output_modalities == ("text",)
    semantic = apply_update(
        beta,
        {"audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}}},
    )
    assert semantic.turn_type == "semantic_vad"
    described = semantic.describe("english-male-1")
    assert described["audio"]["input"]["turn_detection"]["eagerness"] == "high"


@pytest.mark.parametrize(
    ("update", "param"),
    [
        ({"type": "chat"}, "session.type"),
        ({"revoice": {"mode": "sing"}}, "session.revoice.mode"),
        ({"revoice": {"live": "yes"}}, "session.revoice.live"),
        ({"output_modalities": ["video"]}, "session.output_modalities"),
        ({"audio": {"output": {"speed": 9}}}, "session.audio.output.speed"),
        (
            {"audio": {"input": {"turn_detection": {"type": "push"}}}},
            "session.audio.input.turn_detection.type",
        ),
    ],
)
def test_session_update_names_the_bad_field(update: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidOption) as bad:
        apply_update(SessionConfig(), update)
    assert bad.value.param == param


# session time limits (in process: no models are used)


PATH = "/v1/realtime"


def _app(tmp_path: Path, **realtime: float) -> FastAPI:
    settings = Settings(home=tmp_path, voices=tmp_path / "none.toml", realtime=realtime)
    app = FastAPI()
    app.state.runtime = Runtime(settings, Pipeline(settings))
    app.include_router(door.router)
    return app


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        ({"idle_timeout_seconds": 0.5}, "idle_timeout"),
        ({"max_session_seconds": 0.5}, "session_expired"),
    ],
)
def test_sessions_end_with_an_error_event(
    tmp_path: Path, limits: dict[str, float], code: str
) -> None:
    with (
        TestClient(_app(tmp_path, **limits), base_url="http://127.0.0.1") as client,
        client.websocket_connect(PATH) as ws,
    ):
        assert ws.receive_json()["type"] == "session.created"
        event = ws.receive_json()
        assert event["type"] == "error" and event["error"]["code"] == code
        assert ws.receive()["type"] == "websocket.close"


def test_audio_faster_than_the_rate_limit_is_refused(tmp_path: Path) -> None:
    import base64

    second = base64.b64encode(bytes(48000)).decode()  # 1 s of 24 kHz pcm16 silence
    app = _app(tmp_path, max_audio_rate=1.0, partial_interval_seconds=0)
    with (
        TestClient(app, base_url="http://127.0.0.1") as client,
        client.websocket_connect(PATH) as ws,
    ):
        ws.receive_json()
        ws.send_json(
            {
                "type": "session.update",
                "session": {"audio": {"input": {"turn_detection": None}}},
            }
        )
        assert ws.receive_json()["type"] == "session.updated"
        for _ in range(31):  # 30 s of burst is allowed, the 31st second is not
            ws.send_json({"type": "input_audio_buffer.append", "audio": second})
        ws.send_json({"type": "input_audio_buffer.clear"})
        event = ws.receive_json()
        assert event["type"] == "error", event
        assert event["error"]["code"] == "rate_limit_exceeded"
        assert ws.receive_json()["type"] == "input_audio_buffer.cleared"


def test_sessions_behind_refuse_a_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the cap, a new session is refused while the median lag of the last minute's
    turns is over the bound; never when none is open; old lags are forgotten."""
    now = [1000.0]
    monkeypatch.setattr(door.time, "monotonic", lambda: now[0])
    sessions = door.Sessions(cap=3, max_lag=1.5)
    assert sessions.enter()
    sessions.heard(0.4)
    sessions.heard(2.5)  # one slow turn of two: the median is 1.45
    assert sessions.refusal() is None
    sessions.heard(3.0)
    refusal = sessions.refusal()
    assert refusal is not None and "cannot keep up" in refusal and "2.5 s" in refusal
    assert not sessions.enter() and sessions.open == 1
    now[0] += door.LAG_WINDOW_SECONDS + 1  # a minute on: those turns no longer count
    assert sessions.refusal() is None and sessions.enter()
    sessions.heard(5.0)
    sessions.heard(5.0)
    sessions.leave()
    sessions.leave()
    assert sessions.refusal() is None  # nothing open: the lag was theirs
    assert sessions.enter() and sessions.enter() and sessions.enter()
    assert "as many realtime sessions as it can (3)" in str(sessions.refusal())


def test_a_session_is_refused_while_the_open_one_is_behind(
    tmp_path: Path, clips: list[Clip]
) -> None:
    """In process, with a bound no turn can meet: a session's two turns (client commits, real
    speech) make the next session's handshake an error event and a 1013 close."""
    import base64

    from revoice.realtime.formats import AudioFormat as Format

    settings = Settings(
        home=tmp_path,
        voices=tmp_path / "none.toml",
        asr={"model": "tiny.en"},
        realtime={"max_lag_seconds": 0.001, "partial_interval_seconds": 0},
    )
    app = FastAPI()
    app.state.runtime = Runtime(settings, Pipeline(settings))
    app.include_router(door.router)
    speech = joined([speech_only(next(c for c in clips if c.name == "forever.wav")), 0.2])
    audio = base64.b64encode(Format().encode(speech.resample(24000).samples)).decode()
    with TestClient(app, base_url="http://127.0.0.1") as client:
        with client.websocket_connect(PATH) as first:
            assert first.receive_json()["type"] == "session.created"
            first.send_json(
                {
                    "type": "session.update",
                    "session": {"audio": {"input": {"turn_detection": None}}},
                }
            )
            assert first.receive_json()["type"] == "session.updated"
            for _ in range(2):
                first.send_json({"type": "input_audio_buffer.append", "audio": audio})
                first.send_json({"type": "input_audio_buffer.commit"})
            done = 0
            while done < 2:
                event = first.receive_json()
                assert event["type"] != "error", event
                done += event["type"] == "conversation.item.input_audio_transcription.completed"
            with client.websocket_connect(PATH) as second:
                refusal = second.receive_json()
                closing = second.receive()
            assert refusal["type"] == "error", refusal
            assert refusal["error"]["code"] == "session_limit_reached"
            assert "cannot keep up with the 1 realtime session" in refusal["error"]["message"]
            assert closing == {"type": "websocket.close", "code": 1013, "reason": closing["reason"]}
        with client.websocket_connect(PATH) as again:  # none open: served
            assert again.receive_json()["type"] == "session.created"


# semantic_vad: Smart Turn v3.2


def test_smart_turn_hears_a_finished_sentence(clips: list[Clip]) -> None:
    from revoice.realtime import smart_turn

    speech = speech_only(next(c for c in clips if c.name == "librivox-0870.wav"))
    pause = np.zeros(3200, np.float32)  # it is asked at a 200 ms pause
    assert smart_turn.finished(np.concatenate([speech, pause])) >= 0.8
    cut = speech[: int(len(speech) * 0.6)]  # "... had then leisure to consi-"
    assert smart_turn.finished(np.concatenate([cut, pause])) <= 0.2


def test_a_detector_ends_a_turn_at_the_pause_in_progress() -> None:
    detector = TurnDetector(ServerVad(silence_duration_ms=2000))
    assert detector.end_now() is None  # not speaking
    detector.push(np.array([0.9] * 10 + [0.05] * 8, np.float32))
    assert detector.speaking and detector.silence_ms == 8 * 32
    edge = detector.end_now()
    assert edge is not None and edge.kind == "stopped" and edge.sample == 10 * 512
    assert not detector.speaking


# a response cancelled while its speech is being made


def test_a_response_cancelled_mid_synthesis_ends_cancelled(
    settings: Settings,
    pipeline: Pipeline,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Barge-in or a closed socket while a worker thread makes the next chunk: the response
    ends cancelled (not failed: the generator cannot be closed while it runs), and the
    generator is closed once that chunk is done."""
    busy, release, closed = threading.Event(), threading.Event(), threading.Event()
    voice = pipeline.voice(None)

    def speak(text: str, chosen: object, options: object = None) -> Iterator[Audio]:
        try:
            yield Audio(np.full(2400, 0.1, np.float32), voice.sample_rate)
            busy.set()
            release.wait(10)  # the engine at work on the next sentence
            yield Audio(np.full(2400, 0.1, np.float32), voice.sample_rate)
        finally:
            closed.set()

    monkeypatch.setattr(pipeline, "speak", speak)
    events: list[dict[str, Any]] = []

    async def emit(event: dict[str, Any]) -> None:
        events.append(event)

    async def main() -> None:
        request = Request("hello there", voice, True, AudioFormat(), None, "none", None, "conv_1")
        response = Response(Runtime(settings, pipeline), request, emit, lead_seconds=1.0)
        response.task = asyncio.create_task(response.run(None))
        while not busy.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the worker thread is inside next(speech)
        await response.cancel("turn_detected")
        with pytest.raises(asyncio.CancelledError):
            await response.task
        release.set()

    with caplog.at_level(logging.ERROR, logger="revoice.realtime"):
        asyncio.run(main())
    assert not caplog.records, caplog.text
    assert closed.wait(5), "the speech generator was never closed"
    done = [e["response"]["status"] for e in events if e["type"] == "response.done"]
    assert done == ["cancelled"], events
