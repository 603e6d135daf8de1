"""How cost grows with input: each size runs in its own process, so peak memory is its own."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

from bench.harness import Table


def _vm(field: str) -> float:
    """A memory figure of this process from /proc (VmRSS now, VmHWM peak), in MiB.

    ru_maxrss is no use here: Linux carries it across exec, so a spawned child would report
    its parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _asr_job(home: str, seconds: float, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    from bench.sections import _human_recording
    from revoice.config import Settings
    from revoice.pipeline import Pipeline
    from tests.helpers import human_clips

    pipeline = Pipeline(Settings(home=Path(home), voices=Path(home) / "none.toml"))
    clips = human_clips()
    pipeline.transcribe(clips[0].audio)  # warm the model
    audio = _human_recording(clips, seconds)
    before = _vm("VmRSS")
    start = time.perf_counter()
    transcript = pipeline.transcribe(audio)
    elapsed = time.perf_counter() - start
    peak = _vm("VmHWM")
    queue.put((audio.duration, elapsed, before, peak, len(transcript.text.split())))


def _tts_job(home: str, chars: int, voice: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    from revoice.config import Settings
    from revoice.pipeline import Pipeline

    pipeline = Pipeline(Settings(home=Path(home), voices=Path(home) / "none.toml"))
    list(pipeline.speak("Warm up.", voice))
    sentence = "The committee met on Tuesday to review the plans for the new library. "
    text = (sentence * (chars // len(sentence) + 1))[:chars].rsplit(" ", 1)[0] + "."
    before = _vm("VmRSS")
    start = time.perf_counter()
    seconds = 0.0
    for chunk in pipeline.speak(text, voice):  # streamed: only one chunk is held at a time
        seconds += chunk.duration
    elapsed = time.perf_counter() - start
    peak = _vm("VmHWM")
    queue.put((len(text), elapsed, before, peak, seconds))


def _run(target: object, *args: object) -> tuple[float, ...]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get(timeout=1800)
    proc.join()
    return tuple(result)


def asr_scaling(home: Path, sizes: list[float]) -> Table:
    table = Table(
        "Transcription cost vs recording length (one process per size)",
        ["audio s", "time s", "s per audio s", "RSS before MiB", "peak RSS MiB", "words"],
    )
    for size in sizes:
        duration, elapsed, before, peak, words = _run(_asr_job, str(home), size)
        table.add(duration, elapsed, elapsed / duration, before, peak, int(words))
    table.notes.append(
        "Time per audio second should stay flat (linear cost); peak memory "
        "should grow only with the decoded audio itself (16 kHz float32 = "
        "3.75 MiB per minute)."
    )
    return table


def tts_scaling(home: Path, sizes: list[int], voice: str) -> Table:
    table = Table(
        f"Synthesis cost vs text length ({voice}, streamed)",
        ["characters", "time s", "ms per char", "RSS before MiB", "peak RSS MiB", "audio s"],
    )
    for size in sizes:
        chars, elapsed, before, peak, seconds = _run(_tts_job, str(home), size, voice)
        table.add(int(chars), elapsed, 1000 * elapsed / chars, before, peak, seconds)
    table.notes.append(
        "Speech is consumed chunk by chunk, as the API and page do, so memory "
        "stays bounded whatever the text length."
    )
    return table
