"""Knobs that matter, each tried side by side with the default on the same inputs."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from bench.harness import Table, timed
from revoice.audio import Audio
from revoice.config import Settings
from revoice.models import ModelCache
from revoice.pipeline import Pipeline
from revoice.types import TranscribeOptions
from tests.helpers import Clip, cer, wer

ASR_VARIANTS: list[tuple[str, dict[str, object], bool]] = [
    ("default: int8, beam 5, batched + VAD, batch 8", {}, True),
    ("compute_type float32", {"compute_type": "float32"}, True),
    ("beam_size 1 (greedy)", {"beam_size": 1}, True),
    ("batch_size 1", {"batch_size": 1}, True),
    ("cpu_threads 1", {"cpu_threads": 1}, True),
    ("sequential, no VAD", {}, False),
]


#: Hindi sentences for the knobs' Hindi column (spoken by Kokoro, which is deterministic)
HINDI = [
    "मेरा नाम राम है। मैं दिल्ली में रहता हूँ।",
    "मुझे किताबें पढ़ना पसंद है।",
    "आज मौसम बहुत अच्छा है।",
    "हम कल बाज़ार जाएंगे।",
]


def asr_knobs(home: Path, clips: list[Clip], long_audio: Audio) -> Table:
    table = Table(
        "ASR knobs (Whisper base)",
        [
            "variant",
            "WER (clips)",
            "Hindi CER",
            "clips s",
            f"{long_audio.duration:.0f} s input s",
            "vs default",
        ],
    )
    speaker = Pipeline(Settings(home=home, voices=home / "none.toml"))
    hindi = [(h, Audio.concat(speaker.speak(h, "hindi-female-2"))) for h in HINDI]
    base_time = 0.0
    for name, overrides, vad in ASR_VARIANTS:
        settings = Settings(home=home, voices=home / "none.toml")
        settings = settings.model_copy(update={"asr": settings.asr.model_copy(update=overrides)})
        pipeline = Pipeline(settings, models=ModelCache(settings))
        pipeline.models.asr()
        options = TranscribeOptions(language="en", vad=vad)
        hyps, clips_s = timed(
            lambda p=pipeline, o=options: [p.transcribe(c.audio, o).text for c in clips]
        )
        _, long_s = timed(lambda p=pipeline, o=options: p.transcribe(long_audio, o))
        hi = TranscribeOptions(language="hi", vad=vad)
        rates = [cer(h, pipeline.transcribe(a, hi).text) for h, a in hindi]
        if not base_time:
            base_time = long_s
        table.add(
            name,
            wer([c.transcript for c in clips], hyps),
            sum(rates) / len(rates),
            clips_s,
            long_s,
            long_s / base_time,
        )
    table.notes.append(
        "Language forced (English clips, Hindi sentences) so every variant does the same work; "
        f"Hindi CER: mean over {len(HINDI)} sentences spoken by hindi-female-2 (Kokoro)."
    )
    table.notes.append(_finding(table, ratio_col=5, error_cols=(1, 2)))
    return table


def _finding(table: Table, ratio_col: int, error_cols: tuple[int, ...] = ()) -> str:
    """Which variant beats the default (first row) by 5 % or more while accuracy holds (each
    error rate within 0.005 of the default's)."""
    default = table.rows[0]
    better = [
        row
        for row in table.rows[1:]
        if float(row[ratio_col]) <= 0.95
        and all(float(row[c]) <= float(default[c]) + 0.005 for c in error_cols)
    ]
    if not better:
        return f"Finding: no variant is 5 % faster with accuracy held; default kept ({default[0]})."
    best = min(better, key=lambda row: float(row[ratio_col]))
    return (
        f"Finding: {best[0]} takes {float(best[ratio_col]):.2f}x the default's time with "
        "accuracy held: a candidate default (measured on this machine only)."
    )


def tts_knobs(home: Path, text: str, voice: str) -> Table:
    table = Table(f"TTS knobs ({voice})", ["variant", "time s", "vs default"])
    base = 0.0
    for name, threads in (
        ("default: intra-op threads = all cores", 0),
        ("ONNX Runtime 1 thread", 1),
        ("ONNX Runtime 2 threads", 2),
    ):
        settings = Settings(home=home, voices=home / "none.toml")
        settings = settings.model_copy(
            update={"tts": settings.tts.model_copy(update={"threads": threads})}
        )
        pipeline = Pipeline(settings, models=ModelCache(settings))
        list(pipeline.speak("Warm up.", voice))
        _, seconds = timed(lambda p=pipeline: list(p.speak(text, voice)))
        base = base or seconds
        table.add(name, seconds, seconds / base)
    table.notes.append(_finding(table, ratio_col=2))
    return table


def warm_up(home: Path, clip: Audio, voice: str) -> Table:
    """Model cache warm-up: a first request on cold models against the same request warm."""
    table = Table(
        "Model cache warm-up (first request vs the same request again)",
        ["request", "cold s", "warm s", "cold / warm"],
    )
    settings = Settings(home=home, voices=home / "none.toml")
    pipeline = Pipeline(settings, models=ModelCache(settings))
    options = TranscribeOptions(language="en")
    for name, call in (
        ("transcribe (Whisper base)", lambda: pipeline.transcribe(clip, options)),
        (f"speak ({voice})", lambda: list(pipeline.speak("Good morning, how are you?", voice))),
    ):
        _, cold = timed(call)
        _, warm = timed(call)
        table.add(name, cold, warm, cold / warm)
    table.notes.append(
        "`revoice serve` loads the default ASR model and the default voice's engine in a "
        "background thread at start (kept: it takes the cold cost off the first user)."
    )
    return table


def lookahead(home: Path, text: str, voices: list[str]) -> Table:
    """Synthesising the next sentence while the current one plays, against synthesising it
    only when the current one has finished: silent gaps a listener would hear."""
    table = Table(
        "Synthesising ahead while playing (gaps a listener hears)",
        [
            "voice",
            "sentences",
            "audio s",
            "first audio s",
            "gaps, made ahead s",
            "gaps, made on demand s",
        ],
    )
    settings = Settings(home=home, voices=home / "none.toml")
    pipeline = Pipeline(settings, models=ModelCache(settings))
    for voice in voices:
        list(pipeline.speak("Warm up.", voice))
        ready: list[float] = []
        lengths: list[float] = []
        start = time.perf_counter()
        for chunk in pipeline.speak(text, voice):
            ready.append(time.perf_counter() - start)
            lengths.append(chunk.duration)
        # made ahead (what revoice does): chunk i plays at max(end of chunk i-1, ready i)
        ahead = 0.0
        clock = ready[0]
        for at, length in zip(ready, lengths, strict=True):
            ahead += max(0.0, at - clock)
            clock = max(clock, at) + length
        # on demand: each next chunk is only started when the previous has played
        on_demand = sum(b - a for a, b in itertools.pairwise(ready))
        table.add(voice, len(ready), sum(lengths), ready[0], ahead, on_demand)
    table.notes.append(
        "revoice makes sentences ahead of playback (the API and page stream chunks as they are "
        "made); the on-demand column is what waiting for each sentence to finish playing would "
        "cost. Kept: made ahead."
    )
    return table
