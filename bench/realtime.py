"""Live voice to voice: end of speech to first audio, CPU per audio second, sessions held.

A client (the official SDK) streams human recordings at real-time pace into `/v1/realtime`
(server_vad with its defaults) and measures from the end of the speech to the first
`response.output_audio.delta`, in re-speak mode and in reply mode (the shipped SmolLM2, when
the transformers extra is installed). Side by side on the same clips: the upload-whole path,
the recording posted to `/v1/audio/voice-to-voice` (`stream_format=sse`) the moment the speech
ends, to its first `speech.audio.delta`. Then N sessions at once, each streaming its own clips,
to see how many this machine holds.

`python -m bench --only realtime` runs it in the report; `python -m bench.realtime --url ...`
measures a running server and prints the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import httpx
import numpy as np
import openai

from bench.harness import Table
from revoice import codecs
from tests.helpers import Clip, human_clips
from tests.realtime.helpers import Recorder, joined, record, speech_only, stream

LEAD, TAIL = 0.3, 1.5  # seconds of silence before and after the speech
HELD_SECONDS = 1.5  # a session is kept up with when its first audio comes this soon


def _clips() -> list[Clip]:
    return [c for c in human_clips() if c.name.startswith(("librivox", "forever"))]


async def _realtime(
    url: str, key: str, clip: Clip, voice: str, mode: str = "none"
) -> tuple[float, float]:
    """(seconds from the end of the speech to the first response audio, seconds streamed)."""
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
    recorder = Recorder()
    speech = speech_only(clip)
    async with client.realtime.connect(model="gpt-realtime") as connection:
        reader = asyncio.create_task(record(connection, recorder))
        await _opened(recorder)
        session: dict[str, object] = {"type": "realtime", "audio": {"output": {"voice": voice}}}
        if mode != "none":
            session["revoice"] = {"mode": mode}
        await connection.session.update(session=session)  # type: ignore[arg-type]
        await recorder.wait("session.updated")
        started = time.monotonic()
        sending = asyncio.create_task(stream(connection, joined([LEAD, speech, TAIL])))
        first = await recorder.wait("response.output_audio.delta", timeout=120)
        await sending
        reader.cancel()
    return recorder.when(first) - (started + LEAD + len(speech) / 16000), (
        LEAD + len(speech) / 16000 + TAIL
    )


#: said as you speak: four sentences in one turn, 0.3 s apart (the live SDK test's turn)
LIVE_SENTENCES = (
    "librivox-0870.wav",
    "librivox-0880.wav",
    "librivox-0890.wav",
    "librivox-0920.wav",
)
LIVE_PAUSE = 0.3


async def _live_turn(url: str, key: str, clips: list[Clip], voice: str) -> dict[str, float]:
    """`revoice.live` on one turn of four sentences (a turn ends at 1 s of silence): when
    the first audio came (from the start of the speech, and after its first sentence ended),
    how many answers began before the speech ended, and the last answer's first audio after
    the end of speech."""
    by_name = {c.name: c for c in clips}
    parts: list[np.ndarray | float] = [LEAD]
    ends, at = [], LEAD
    for name in LIVE_SENTENCES:
        speech = speech_only(by_name[name])
        parts += [speech, LIVE_PAUSE]
        at += len(speech) / 16000
        ends.append(at)
        at += LIVE_PAUSE
    parts[-1] = 2.0
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
    recorder = Recorder()
    async with client.realtime.connect(model="gpt-realtime") as connection:
        reader = asyncio.create_task(record(connection, recorder))
        await _opened(recorder)
        session = {
            "type": "realtime",
            "audio": {
                "input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 1000}},
                "output": {"voice": voice},
            },
            "revoice": {"live": True},
        }
        await connection.session.update(session=session)  # type: ignore[arg-type]
        await recorder.wait("session.updated")
        started = time.monotonic()
        await stream(connection, joined(parts))
        await recorder.wait("conversation.item.input_audio_transcription.completed", timeout=60)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # every answer of the turn has ended
            ended = len(recorder.of("response.done")) == len(recorder.of("response.created"))
            if ended and time.monotonic() - recorder.events[-1][0] > 1.5:
                break
            await asyncio.sleep(0.1)
        reader.cancel()
    speech_end = started + ends[-1]
    firsts = []  # each answer's first audio
    for done in recorder.of("response.done"):
        rid = done["response"]["id"]
        deltas = [e for e in recorder.of("response.output_audio.delta") if e["response_id"] == rid]
        if deltas:
            firsts.append(recorder.when(deltas[0]))
    return {
        "speech": ends[-1] - LEAD,
        "first": firsts[0] - (started + LEAD),
        "after first sentence": firsts[0] - (started + ends[0]),
        "answers": len(firsts),
        "before the end": sum(t < speech_end for t in firsts),
        "last after the end": firsts[-1] - speech_end,
    }


async def _opened(recorder: Recorder) -> None:
    """Wait for `session.created`; a refusal (an `error` first) raises Refused."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        kinds = recorder.types()
        if "session.created" in kinds:
            return
        if "error" in kinds:
            raise Refused(recorder.of("error")[0]["error"].get("code"))
        await asyncio.sleep(0.02)
    raise RuntimeError("no session.created within 30 s")


def _upload(url: str, key: str, clip: Clip, voice: str) -> float:
    """Seconds from posting the whole recording (at the end of speech) to its first audio."""
    data = codecs.encode(joined([LEAD, speech_only(clip), 0.2]), "wav")
    headers = {"Authorization": f"Bearer {key}"}
    fields = {"voice": voice, "stream_format": "sse", "response_format": "wav"}
    with httpx.Client(trust_env=False, timeout=120) as http:
        started = time.monotonic()
        with http.stream(
            "POST",
            f"{url}/v1/audio/voice-to-voice",
            data=fields,
            files={"file": ("speech.wav", data)},
            headers=headers,
        ) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if (
                    line.startswith("data: ")
                    and json.loads(line[6:])["type"] == "speech.audio.delta"
                ):
                    return time.monotonic() - started
    raise RuntimeError("no speech came back")


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(
    url: str,
    key: str,
    clips: list[Clip],
    voice: str = "english-male-1",
    *,
    reply: bool = False,
) -> Table:
    """Per clip: realtime re-speak (and reply), and upload-whole; then p50 and p95."""
    columns = ["clip", "speech s", "realtime re-speak"]
    columns += ["realtime reply"] if reply else []
    columns += ["upload whole (SSE)"]
    table = Table("Live voice to voice: end of speech to first audio (s)", columns)
    series: list[list[float]] = [[] for _ in columns[2:]]
    for clip in clips:
        row = [asyncio.run(_realtime(url, key, clip, voice))[0]]
        if reply:
            row.append(asyncio.run(_realtime(url, key, clip, voice, "reply"))[0])
        row.append(_upload(url, key, clip, voice))
        for values, value in zip(series, row, strict=True):
            values.append(value)
        table.add(clip.name, len(speech_only(clip)) / 16000, *row)
    mean_speech = statistics.fmean(len(speech_only(c)) / 16000 for c in clips)
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        table.add(name, mean_speech, *(_p(values, q) for values in series))
    return table


class Refused(Exception):
    """The server refused the session (its cap: `session_limit_reached`)."""


async def _sessions(
    url: str, key: str, clips: list[Clip], n: int, voice: str
) -> tuple[list[float], int]:
    """n sessions at once, each streaming its own clips one after another: the latencies of
    those admitted, and how many were refused."""

    async def one(i: int) -> list[float] | None:
        own = clips[i % len(clips) :] + clips[: i % len(clips)]
        try:
            return [(await _realtime(url, key, clip, voice))[0] for clip in own[:2]]
        except Refused:
            return None

    results = await asyncio.gather(*(one(i) for i in range(n)))
    return [x for r in results if r for x in r], sum(r is None for r in results)


def section(home: Path, log: Path, quick: bool) -> Table:
    from bench.overhead import _cpu, _server

    clips = _clips()[: 2 if quick else 6]
    with _server(home, "PASSIVE", log) as (url, pid):
        reply = _reply_available()
        asyncio.run(_realtime(url, "unused", clips[0], "english-male-1"))  # warm
        if reply:  # SmolLM2 loads on the first answer (about 30 s): not part of the figures
            started = time.monotonic()
            asyncio.run(_realtime(url, "unused", clips[0], "english-male-1", "reply"))
            cold = time.monotonic() - started
        before = _cpu(pid)
        streamed = 0.0
        for clip in clips:
            streamed += asyncio.run(_realtime(url, "unused", clip, "english-male-1"))[1]
        per_second = (_cpu(pid) - before) / streamed
        table = measure(url, "unused", clips, reply=reply)
        table.notes.append(
            f"{len(clips)} human clips, english-male-1, Whisper base int8, server_vad defaults "
            f"(silence_duration_ms 500); the speech streamed at real-time pace in 100 ms frames "
            f"with {LEAD:g} s of silence before and {TAIL:g} s after. The server spends "
            f"{per_second:.2f} CPU-s per second of audio streamed in re-speak mode (partial "
            "transcripts, turn detection, the final pass and speech)."
        )
        if reply:
            table.notes.append(
                "Reply: the shipped SmolLM2-135M (transformers extra) writes the whole answer, "
                f"then it is spoken; its first session, model load included, took {cold:.0f} s "
                "(a session that asks for reply mode starts loading it at once)."
            )
        else:
            table.notes.append("reply mode not measured: the transformers extra is not installed.")
        sentences = ", ".join(n.removesuffix(".wav") for n in LIVE_SENTENCES)
        for voice, engine in (("english-male-1", "Piper"), ("english-female", "Kokoro")):
            live = asyncio.run(_live_turn(url, "unused", _clips(), voice))
            table.notes.append(
                f"Said as you speak in {voice} ({engine}; `revoice.live`, turn end at 1 s of "
                f"silence): four sentences ({sentences}, "
                f"{LIVE_PAUSE:g} s apart, {live['speech']:.1f} s of speech) in one turn: the "
                f"first audio came {live['first']:.1f} s after the speech began, "
                f"{live['after first sentence']:.2f} s after its first sentence ended; "
                f"{live['answers']:.0f} answers, {live['before the end']:.0f} of them begun "
                f"before the speech ended; the last one's audio "
                f"{live['last after the end']:.2f} s after the end of speech."
            )
        held = []
        for n in (1, 2, 3) if quick else (1, 2, 3, 4):
            latencies, refused = asyncio.run(_sessions(url, "unused", clips, n, "english-male-1"))
            p50, p95 = statistics.median(latencies), _p(latencies, 0.95)
            shown = f"{n} at once: p50 {p50:.2f} s, p95 {p95:.2f} s"
            held.append(shown + (f" ({refused} refused: the session cap)" if refused else ""))
        table.notes.append(
            "Sessions at once, each streaming two clips at real-time pace (end of speech to "
            f"first audio): {'; '.join(held)}. A session is kept up with while its p95 stays "
            f"under {HELD_SECONDS:g} s."
        )
    with _server(
        home,
        "PASSIVE",
        log,
        {"REVOICE_REALTIME__MAX_SESSIONS": "8", "REVOICE_REALTIME__MAX_LAG_SECONDS": "1000"},
    ) as (url, _):
        asyncio.run(_realtime(url, "unused", clips[0], "english-male-1"))  # warm
        over = []
        kept = True
        for n in (3,) if quick else (3, 4):
            latencies, _ = asyncio.run(_sessions(url, "unused", clips, n, "english-male-1"))
            kept = kept and _p(latencies, 0.95) < HELD_SECONDS
            over.append(
                f"{n} at once: p50 {statistics.median(latencies):.2f} s, "
                f"p95 {_p(latencies, 0.95):.2f} s"
            )
    verdict = (
        f"every p95 stays under {HELD_SECONDS:g} s: on a quiet machine the cap is stricter "
        "than it needs to be"
        if kept
        else "the sessions fall behind, which is why the cap refuses them"
    )
    table.notes.append(
        "Past the default cap (one session per core), with REVOICE_REALTIME__MAX_SESSIONS=8 "
        f"(and no refusal for lag): {'; '.join(over)}: {verdict}."
    )
    return table


def _reply_available() -> bool:
    """Whether the shipped SmolLM2 can answer here (the transformers extra and its GGUF)."""
    import importlib.util

    from revoice.textgen.transformers_backend import smollm2_gguf

    if importlib.util.find_spec("transformers") is None:
        return False
    try:
        smollm2_gguf()
    except Exception:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="a running revoice serve")
    parser.add_argument("--key", default="unused", help="its REVOICE_API_KEY, if any")
    parser.add_argument("--voice", default="english-male-1")
    parser.add_argument("--clips", type=int, default=6, help="how many human clips")
    parser.add_argument("--reply", action="store_true", help="also measure reply mode")
    args = parser.parse_args(argv)
    table = measure(args.url, args.key, _clips()[: args.clips], args.voice, reply=args.reply)
    print(table.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
