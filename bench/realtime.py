"""`python -m bench.realtime --url http://127.0.0.1:7860`: end of speech to first audio.

Streams human recordings at real-time pace into `/v1/realtime` (server_vad, re-speak) with the
official SDK, and measures from the end of the speech to the first `response.output_audio.delta`;
then, side by side on the same clips, the upload-whole path: the recording posted to
`/v1/audio/voice-to-voice` (`stream_format=sse`) when the speech ends, to its first
`speech.audio.delta`. Prints p50 and p95 of both. The figures depend on the machine and on what
else runs on it: this writes no report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx
import openai

from bench.harness import Table
from revoice import codecs
from tests.helpers import Clip, human_clips
from tests.realtime.helpers import Recorder, joined, record, speech_only, stream

LEAD, TAIL = 0.3, 1.5  # seconds of silence before and after the speech


async def _realtime(url: str, key: str, clip: Clip, voice: str) -> float:
    """Seconds from the end of the speech to the first response audio."""
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
    recorder = Recorder()
    speech = speech_only(clip)
    async with client.realtime.connect(model="gpt-realtime") as connection:
        reader = asyncio.create_task(record(connection, recorder))
        await recorder.wait("session.created")
        await connection.session.update(
            session={"type": "realtime", "audio": {"output": {"voice": voice}}}
        )
        await recorder.wait("session.updated")
        started = time.monotonic()
        sending = asyncio.create_task(stream(connection, joined([LEAD, speech, TAIL])))
        first = await recorder.wait("response.output_audio.delta", timeout=60)
        sending.cancel()
        reader.cancel()
    return recorder.when(first) - (started + LEAD + len(speech) / 16000)


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


def measure(url: str, key: str, clips: list[Clip], voice: str = "english-male-1") -> Table:
    table = Table(
        "End of speech to first audio (s)", ["clip", "speech s", "realtime", "upload whole"]
    )
    live: list[float] = []
    whole: list[float] = []
    for clip in clips:
        live.append(asyncio.run(_realtime(url, key, clip, voice)))
        whole.append(_upload(url, key, clip, voice))
        table.add(clip.name, len(speech_only(clip)) / 16000, live[-1], whole[-1])
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        table.add(
            name,
            statistics.fmean(len(speech_only(c)) / 16000 for c in clips),
            _p(live, q),
            _p(whole, q),
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="a running revoice serve")
    parser.add_argument("--key", default="unused", help="its REVOICE_API_KEY, if any")
    parser.add_argument("--voice", default="english-male-1")
    parser.add_argument("--clips", type=int, default=6, help="how many human clips")
    args = parser.parse_args(argv)
    clips = [c for c in human_clips() if c.name.startswith(("librivox", "forever"))]
    table = measure(args.url, args.key, clips[: args.clips], args.voice)
    print(table.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
