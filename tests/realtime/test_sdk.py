"""The official openai SDK's realtime client against a real `revoice serve`, with real human
speech streamed at real-time pace: turns, stable partial transcripts, re-spoken answers in a
custom voice, barge-in, cancel and truncate, a transcription-only session."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import openai
import pytest

from revoice.audio import Audio
from revoice.effects import median_f0
from revoice.pipeline import Pipeline
from revoice.types import TranscribeOptions
from tests.api.helpers import Server
from tests.helpers import Clip, normalize, wer
from tests.realtime.conftest import CUSTOM_VOICE
from tests.realtime.helpers import (
    KEY,
    Recorder,
    audio_of,
    joined,
    record,
    speech_only,
    split_at_pause,
    stream,
)

Scenario = Callable[[Any, Recorder], Awaitable[None]]
TRANSCRIPT_DONE = "response.output_audio_transcript.done"


def run(server: Server, scenario: Scenario, session: dict[str, Any] | None = None) -> Recorder:
    """Connect with the SDK, update the session, play `scenario`; every event recorded."""

    async def main() -> Recorder:
        client = openai.AsyncOpenAI(base_url=f"{server.base_url}/v1", api_key=KEY, max_retries=0)
        recorder = Recorder()
        async with client.realtime.connect(model="gpt-realtime") as connection:
            reader = asyncio.create_task(record(connection, recorder))
            await recorder.wait("session.created")
            if session is not None:
                await connection.session.update(session=session)
                await recorder.wait("session.updated")
            await scenario(connection, recorder)
            reader.cancel()
        return recorder

    return asyncio.run(main())


def vad_session(**turn: Any) -> dict[str, Any]:
    return {
        "type": "realtime",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "turn_detection": {"type": "server_vad", "silence_duration_ms": 500, **turn},
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": CUSTOM_VOICE},
        },
    }


def clip(clips: list[Clip], name: str) -> Clip:
    return next(c for c in clips if c.name == name)


@dataclass
class Turn:
    recorder: Recorder
    audio: Audio  # what was streamed (16 kHz)
    reference: str


@pytest.fixture(scope="module")
def respeak(revoice_server: Server, clips: list[Clip]) -> Turn:
    """A sentence with a 0.3 s pause in its middle, then silence: one turn, re-spoken."""
    spoken = clip(clips, "librivox-0870.wav")
    speech = speech_only(spoken)
    cut = split_at_pause(speech)
    audio = joined([0.4, speech[:cut], 0.3, speech[cut:], 1.5])

    async def scenario(connection: Any, recorder: Recorder) -> None:
        await stream(connection, audio)
        await recorder.wait("response.done", timeout=60)

    recorder = run(revoice_server, scenario, vad_session())
    return Turn(recorder, audio, spoken.transcript)


def test_a_short_pause_does_not_end_the_turn(respeak: Turn) -> None:
    events = respeak.recorder
    assert len(events.of("input_audio_buffer.speech_started")) == 1, events.types()
    assert len(events.of("input_audio_buffer.committed")) == 1
    started = events.of("input_audio_buffer.speech_started")[0]
    stopped = events.of("input_audio_buffer.speech_stopped")[0]
    assert started["item_id"] == stopped["item_id"]
    speech_ms = 1000 * (len(respeak.audio) / 16000 - 1.9)  # without the silence around it
    assert stopped["audio_end_ms"] - started["audio_start_ms"] >= speech_ms - 300


def test_the_transcript_is_as_good_as_the_batch_path(respeak: Turn, ears: Pipeline) -> None:
    completed = respeak.recorder.of("conversation.item.input_audio_transcription.completed")
    assert len(completed) == 1
    live = completed[0]["transcript"]
    batch = ears.transcribe(respeak.audio, TranscribeOptions(language="en")).text
    live_wer, batch_wer = wer([respeak.reference], [live]), wer([respeak.reference], [batch])
    assert live_wer <= 1.2 * batch_wer + 0.07, f"live {live!r}, batch {batch!r}"
    assert completed[0]["usage"]["type"] == "duration"


def test_partial_transcripts_come_while_speaking_and_are_never_taken_back(respeak: Turn) -> None:
    events = respeak.recorder
    deltas = events.of("conversation.item.input_audio_transcription.delta")
    completed = events.of("conversation.item.input_audio_transcription.completed")[0]
    stopped = events.of("input_audio_buffer.speech_stopped")[0]
    assert all(d["item_id"] == completed["item_id"] for d in deltas)
    # append-only: the deltas joined are the final transcript, word for word
    assert "".join(d["delta"] for d in deltas) == completed["transcript"]
    early = [d for d in deltas if events.when(d) < events.when(stopped)]
    lag = events.when(completed) - events.when(stopped)
    if lag < 2.0:  # the server kept up with real time (this machine's CPUs are shared)
        assert len(deltas) >= 2 and early, "no partial transcript before the end of speech"
        assert len(normalize("".join(d["delta"] for d in early)).split()) >= 3
    else:
        print(f"the final transcript came {lag:.1f} s after the speech: CPU too busy to check")


def test_the_answer_says_the_transcript_in_the_custom_voice(respeak: Turn, ears: Pipeline) -> None:
    events = respeak.recorder
    done = events.of("response.done")[0]["response"]
    assert done["status"] == "completed", done
    transcript = events.of("conversation.item.input_audio_transcription.completed")[0]
    said = events.of("response.output_audio_transcript.done")[0]["transcript"]
    assert said == transcript["transcript"]
    assert done["output"][0]["content"][0]["transcript"] == said
    speech = audio_of(events, done["id"])
    assert speech.duration > 1.0
    heard = ears.transcribe(speech, TranscribeOptions(language="en")).text
    # tiny.en hears Piper raised four semitones less well than Piper itself
    assert wer([said], [heard]) <= 0.35, f"said {said!r}, heard {heard!r}"
    # the custom voice's pitch applies: four semitones over its parent's
    plain = Audio.concat(ears.speak(said, "english-male-1"))
    ratio = median_f0(speech) / median_f0(plain)
    assert 1.12 <= ratio <= 1.45, ratio


def test_events_come_in_protocol_order(respeak: Turn) -> None:
    order = [
        "session.created",
        "session.updated",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.completed",
        "response.created",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_audio_transcript.delta",
        "response.output_audio.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]
    types = respeak.recorder.types()
    positions = [types.index(kind) for kind in order]
    assert positions == sorted(positions), types


def test_speech_during_an_answer_cancels_it(revoice_server: Server, clips: list[Clip]) -> None:
    first = joined([0.3, speech_only(clip(clips, "librivox-0880.wav")), 0.9])
    second = joined([speech_only(clip(clips, "forever.wav")), 1.2])

    async def scenario(connection: Any, recorder: Recorder) -> None:
        await stream(connection, first)
        await recorder.wait("response.output_audio.delta", timeout=30)
        await stream(connection, second)  # while revoice is still talking
        await recorder.wait(
            "conversation.item.input_audio_transcription.completed",
            timeout=30,
            where=lambda e: "forever" in e["transcript"].lower(),
        )

    recorder = run(revoice_server, scenario, vad_session())
    done = recorder.of("response.done")[0]["response"]
    assert done["status"] == "cancelled", done
    assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert done["output"][0]["status"] == "incomplete"
    types = recorder.types()
    second_start = [i for i, t in enumerate(types) if t == "input_audio_buffer.speech_started"][1]
    assert second_start < types.index("response.done")
    assert len(recorder.of("input_audio_buffer.committed")) == 2


def test_client_commit_cancel_and_truncate(revoice_server: Server, clips: list[Clip]) -> None:
    spoken = clip(clips, "librivox-0880.wav")

    async def scenario(connection: Any, recorder: Recorder) -> None:
        import base64

        from tests.realtime.helpers import pcm16

        data = base64.b64encode(pcm16(spoken.audio)).decode("ascii")
        await connection.input_audio_buffer.append(audio=data)  # all at once: no VAD
        await connection.input_audio_buffer.commit()
        await recorder.wait("conversation.item.input_audio_transcription.completed")
        assert not recorder.of("response.created")  # a commit alone makes no response
        await connection.response.create()
        delta = await recorder.wait("response.output_audio.delta")
        await connection.response.cancel()
        await recorder.wait("response.done")
        await asyncio.sleep(0.3)  # nothing of that response comes after its end
        await connection.conversation.item.truncate(
            item_id=delta["item_id"], content_index=0, audio_end_ms=150
        )
        await recorder.wait("conversation.item.truncated")
        seen = len(recorder.events)
        await connection.conversation.item.truncate(
            item_id=delta["item_id"], content_index=0, audio_end_ms=10**6
        )
        await recorder.wait("error", after=seen)
        seen = len(recorder.events)
        await connection.response.cancel()  # nothing to cancel now
        await recorder.wait("error", after=seen)
        # the session goes on; a response asked for at once waits for the words it answers
        await connection.input_audio_buffer.append(audio=data)
        await connection.input_audio_buffer.commit()
        await connection.response.create()
        await recorder.wait("response.done", where=lambda e: e["response"]["status"] == "completed")

    recorder = run(
        revoice_server,
        scenario,
        {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
    )
    assert (
        wer(
            [spoken.transcript],
            [recorder.of("conversation.item.input_audio_transcription.completed")[0]["transcript"]],
        )
        <= 0.3
    )
    first = recorder.of("response.done")[0]["response"]
    assert first["status"] == "cancelled"
    assert first["status_details"]["reason"] == "client_cancelled"
    ended = recorder.types().index("response.done")
    later = [e for _, e in recorder.events[ended:] if e.get("response_id") == first["id"]]
    assert not later, later
    second = recorder.of("response.done")[-1]["response"]
    heard = recorder.of("conversation.item.input_audio_transcription.completed")
    assert len(heard) == 2
    assert second["output"][0]["content"][0]["transcript"] == heard[1]["transcript"]
    types = recorder.types()
    assert types.index("response.created", ended + 1) > len(types) - 1 - types[::-1].index(
        "conversation.item.input_audio_transcription.completed"
    )
    truncated = recorder.of("conversation.item.truncated")[0]
    assert truncated["audio_end_ms"] == 150
    errors = [e["error"] for e in recorder.of("error")]
    assert errors[0]["param"] == "audio_end_ms"
    assert errors[1]["code"] == "response_cancel_not_active"


def test_semantic_vad_waits_out_a_pause_mid_sentence_and_ends_a_finished_one(
    revoice_server: Server, clips: list[Clip]
) -> None:
    """Smart Turn: 0.7 s of silence inside a sentence (server_vad's 500 ms would end the turn)
    does not end it; the finished sentence ends it at once, not after the longest pause (4 s)."""
    spoken = clip(clips, "librivox-0870.wav")
    speech = speech_only(spoken)
    cut = split_at_pause(speech, 0.4, 0.6)  # "... how much there might be | prudently ..."
    audio = joined([0.3, speech[:cut], 0.7, speech[cut:], 3.0])
    session = {
        "type": "realtime",
        "audio": {
            "input": {
                "turn_detection": {
                    "type": "semantic_vad",
                    "eagerness": "low",
                    "create_response": False,
                }
            }
        },
    }
    ended_at: list[float] = []

    async def scenario(connection: Any, recorder: Recorder) -> None:
        streaming = asyncio.create_task(stream(connection, audio))
        started = asyncio.get_running_loop().time()
        await recorder.wait("input_audio_buffer.speech_stopped", timeout=30)
        ended_at.append(asyncio.get_running_loop().time() - started)
        await recorder.wait("conversation.item.input_audio_transcription.completed")
        streaming.cancel()  # the rest is silence

    recorder = run(revoice_server, scenario, session)
    assert (
        recorder.of("session.updated")[0]["session"]["audio"]["input"]["turn_detection"]["type"]
        == "semantic_vad"
    )
    assert len(recorder.of("input_audio_buffer.speech_started")) == 1
    assert len(recorder.of("input_audio_buffer.committed")) == 1
    speech_end = 0.3 + (len(speech) / 16000) + 0.7
    assert ended_at[0] < speech_end + 2.5, ended_at  # the longest pause would be 4 s
    heard = recorder.of("conversation.item.input_audio_transcription.completed")[0]
    assert wer([spoken.transcript], [heard["transcript"]]) <= 0.35


def test_two_sessions_at_once_keep_their_own_words(
    revoice_server: Server, clips: list[Clip]
) -> None:
    """Two transcription sessions (as Pipecat's realtime STT uses them: no responses) streaming
    different speech at the same time: neither hears the other."""
    names = ("forever.wav", "librivox-0930.wav")
    session = {
        "type": "transcription",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "gpt-4o-transcribe", "language": "en"},
                "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
            }
        },
    }

    def scenario_for(spoken: Clip) -> Scenario:
        async def scenario(connection: Any, recorder: Recorder) -> None:
            await stream(connection, joined([0.3, speech_only(spoken), 1.0]))
            await recorder.wait("conversation.item.input_audio_transcription.completed")
            await asyncio.sleep(0.3)  # a response would have started by now

        return scenario

    async def both() -> list[Recorder]:
        return list(
            await asyncio.gather(
                *(
                    asyncio.to_thread(run, revoice_server, scenario_for(clip(clips, n)), session)
                    for n in names
                )
            )
        )

    for name, recorder in zip(names, asyncio.run(both()), strict=True):
        assert recorder.of("session.updated")[0]["session"]["type"] == "transcription"
        heard = recorder.of("conversation.item.input_audio_transcription.completed")
        assert len(heard) == 1
        assert wer([clip(clips, name).transcript], [heard[0]["transcript"]]) <= 0.3, name
        assert not recorder.of("response.created")


def test_live_sessions_say_each_sentence_while_the_person_talks(
    revoice_server: Server, clips: list[Clip], ears: Pipeline
) -> None:
    """`revoice.live`: four sentences in one turn (0.3 s pauses, a turn ends at 1 s of
    silence); the first is said while the person is still talking, and the answers together
    say the turn once, in order."""
    names = ("librivox-0870.wav", "librivox-0880.wav", "librivox-0890.wav", "librivox-0920.wav")
    parts: list[np.ndarray | float] = [0.4]
    for name in names:
        parts += [speech_only(clip(clips, name)), 0.3]
    audio = joined([*parts[:-1], 2.0])

    async def scenario(connection: Any, recorder: Recorder) -> None:
        await stream(connection, audio)
        completed = await recorder.wait(
            "conversation.item.input_audio_transcription.completed", timeout=60
        )
        heard = normalize(completed["transcript"]).split()

        def said_all(_: dict[str, Any]) -> bool:
            said = " ".join(e["transcript"] for e in recorder.of(TRANSCRIPT_DONE))
            return len(normalize(said).split()) >= len(heard)

        await recorder.wait(TRANSCRIPT_DONE, timeout=90, where=said_all)
        await asyncio.sleep(0.5)

    session = vad_session(silence_duration_ms=1000)
    session["revoice"] = {"live": True}
    recorder = run(revoice_server, scenario, session)
    assert recorder.of("session.updated")[-1]["session"]["revoice"]["live"] is True
    assert len(recorder.of("input_audio_buffer.committed")) == 1, recorder.types()
    stopped = recorder.of("input_audio_buffer.speech_stopped")[0]
    created = recorder.of("response.created")
    assert len(created) >= 2, recorder.types()
    first_audio = recorder.of("response.output_audio.delta")[0]
    began = recorder.when(recorder.of("input_audio_buffer.speech_started")[0])
    print(
        f"live: first audio {recorder.when(first_audio) - began:.1f} s into "
        f"{recorder.when(stopped) - began:.1f} s of speech; {len(created)} responses"
    )
    assert recorder.when(first_audio) < recorder.when(stopped), "nothing said before the turn ended"
    done = [e["response"] for e in recorder.of("response.done")]
    assert [d["status"] for d in done] == ["completed"] * len(created), done
    # nothing lost, nothing said twice: the answers joined are the turn's transcript
    transcript = recorder.of("conversation.item.input_audio_transcription.completed")[0]
    said = [e["transcript"] for e in recorder.of(TRANSCRIPT_DONE)]
    assert normalize(" ".join(said)) == normalize(transcript["transcript"])
    reference = " ".join(clip(clips, name).transcript for name in names)
    assert wer([reference], [transcript["transcript"]]) <= 0.15, transcript["transcript"]
    first = audio_of(recorder, done[0]["id"])
    heard = ears.transcribe(first, TranscribeOptions(language="en")).text
    assert wer([said[0]], [heard]) <= 0.35, f"said {said[0]!r}, heard {heard!r}"
