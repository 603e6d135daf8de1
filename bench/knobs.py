"""Knobs that matter, each tried side by side with the default on the same inputs."""

from __future__ import annotations

from pathlib import Path

from bench.harness import Table, timed
from revoice.audio import Audio
from revoice.config import Settings
from revoice.models import ModelCache
from revoice.pipeline import Pipeline
from revoice.types import TranscribeOptions
from tests.helpers import Clip, wer

ASR_VARIANTS: list[tuple[str, dict[str, object], bool]] = [
    ("default: int8, beam 5, batched + VAD, batch 8", {}, True),
    ("compute_type float32", {"compute_type": "float32"}, True),
    ("beam_size 1 (greedy)", {"beam_size": 1}, True),
    ("batch_size 1", {"batch_size": 1}, True),
    ("cpu_threads 1", {"cpu_threads": 1}, True),
    ("sequential, no VAD", {}, False),
]


def asr_knobs(home: Path, clips: list[Clip], long_audio: Audio) -> Table:
    table = Table(
        "ASR knobs (Whisper base)",
        ["variant", "WER (clips)", "clips s", f"{long_audio.duration:.0f} s input s", "vs default"],
    )
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
        if not base_time:
            base_time = long_s
        table.add(
            name, wer([c.transcript for c in clips], hyps), clips_s, long_s, long_s / base_time
        )
    table.notes.append("Language forced to English so every variant does the same work.")
    return table


def tts_knobs(home: Path, text: str, voice: str) -> Table:
    table = Table(f"TTS knobs ({voice})", ["variant", "time s", "vs default"])
    base = 0.0
    for name, threads in (("default: all cores", 0), ("ONNX Runtime 1 thread", 1)):
        settings = Settings(home=home, voices=home / "none.toml")
        settings = settings.model_copy(
            update={"tts": settings.tts.model_copy(update={"threads": threads})}
        )
        pipeline = Pipeline(settings, models=ModelCache(settings))
        list(pipeline.speak("Warm up.", voice))
        _, seconds = timed(lambda p=pipeline: list(p.speak(text, voice)))
        base = base or seconds
        table.add(name, seconds, seconds / base)
    return table
