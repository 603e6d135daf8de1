"""The measurements. Each function returns a Table; ratios are taken within one run."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.harness import Table, first_and_total, peak_rss_mb, timed
from revoice import codecs
from revoice.audio import Audio
from revoice.pipeline import Pipeline
from revoice.types import TranscribeOptions
from tests.helpers import Clip, wer

ROUND_TRIP = "The quick brown fox jumps over the lazy dog. Please call me back when you get home."


def asr(pipeline: Pipeline, clips: list[Clip], models: list[str]) -> Table:
    table = Table("Speech to text: human clips", ["model", "clips", "audio s", "WER", "RTF"])
    audio_s = sum(c.audio.duration for c in clips)
    for model in models:
        pipeline.models.asr(model)  # load outside the timing
        hyps, seconds = timed(
            lambda m=model: [pipeline.transcribe(c.audio, model=m).text for c in clips]
        )
        rate = wer([c.transcript for c in clips], hyps)
        table.add(model, len(clips), audio_s, rate, seconds / audio_s)
    table.notes.append("RTF = processing seconds / audio seconds (lower is faster).")
    return table


def asr_overhead(pipeline: Pipeline, clip: Audio, repeats: int) -> Table:
    """revoice's transcribe vs a bare faster-whisper call on the same loaded model and audio."""
    engine = pipeline.models.asr()
    model = engine._model  # type: ignore[attr-defined]
    batched = engine._batched  # type: ignore[attr-defined]
    samples = clip.resample(16000).samples
    cfg = pipeline.settings.asr

    def bare() -> str:
        segments, _ = batched.transcribe(
            samples,
            language="en",
            beam_size=cfg.beam_size,
            batch_size=cfg.batch_size,
            vad_filter=True,
        )
        return " ".join(s.text for s in segments)

    def ours() -> str:
        return pipeline.transcribe(clip, TranscribeOptions(language="en")).text

    bare(), ours()  # warm
    t_bare = statistics.median(timed(bare)[1] for _ in range(repeats))
    t_ours = statistics.median(timed(ours)[1] for _ in range(repeats))
    table = Table(
        "revoice transcribe vs bare faster-whisper (same model, same audio)",
        ["path", "median s", "ratio"],
    )
    table.add("bare BatchedInferencePipeline", t_bare, 1.0)
    table.add("revoice Pipeline.transcribe", t_ours, t_ours / t_bare)
    table.notes.append(
        f"{clip.duration:.1f} s clip, language forced to en, {repeats} runs each; "
        f"model is {type(model).__name__}."
    )
    return table


def tts(pipeline: Pipeline, voices: list[str]) -> Table:
    table = Table(
        "Text to speech per voice",
        ["voice", "engine", "audio s", "RTF", "first audio s", "round-trip WER"],
    )
    for voice in voices:
        pipeline.models.tts(pipeline.voice(voice).engine)
        list(pipeline.speak("Warm up.", voice))
        chunks, first, total = first_and_total(pipeline.speak(ROUND_TRIP, voice))
        audio = Audio.concat(chunks)
        heard = pipeline.transcribe(audio, TranscribeOptions(language="en")).text
        table.add(
            voice,
            pipeline.voice(voice).engine,
            audio.duration,
            total / audio.duration,
            first,
            wer([ROUND_TRIP], [heard]),
        )
    table.notes.append(
        "Two sentences of English; WER from transcribing the speech again with Whisper base."
    )
    return table


def _recording(clips: list[Clip], seconds: float) -> Audio:
    """About `seconds` of human speech: clips (shortest first) joined by 0.5 s pauses."""
    parts: list[Audio] = []
    total = 0.0
    for clip in sorted(clips, key=lambda c: c.audio.duration) * 4:
        if total + clip.audio.duration > seconds + 1.0 and total >= seconds * 0.8:
            continue
        if total >= seconds:
            break
        parts += [clip.audio.resample(16000), Audio.silence(0.5, 16000)]
        total += clip.audio.duration + 0.5
    return Audio.concat(parts)


def _naive(pipeline: Pipeline, source: Path, voice: str, tmp: Path) -> None:
    """The seed's shape: decode, transcribe everything, synthesise everything, write a file."""
    decoded = codecs.decode(source)
    text = pipeline.transcribe(decoded).text
    speech = Audio.concat(pipeline.speak(text, voice))
    codecs.write(speech, tmp / "naive.wav")


def voice_to_voice(
    pipeline: Pipeline, clips: list[Clip], lengths: list[float], voice: str
) -> Table:
    """Streaming pipelines vs a naive sequential one of the seed's shape, same models.

    "after transcript": `convert` (whole transcript, then speech streamed sentence by
    sentence). "live": `convert_live` (each sentence spoken as soon as it is heard, the first
    seconds of speech decoded on their own, recognition overlapping synthesis).
    """
    table = Table(
        f"Voice to voice ({voice}): streaming vs naive",
        [
            "input s",
            "naive total s",
            "after-transcript first audio s",
            "live first audio s",
            "live total s",
            "naive total / live first audio",
        ],
    )
    with tempfile.TemporaryDirectory() as tmp:
        for length in lengths:
            audio = _recording(clips, length)
            source = Path(tmp) / "in.wav"
            codecs.write(audio, source)

            _, naive_s = timed(lambda src=source: _naive(pipeline, src, voice, Path(tmp)))
            start = time.perf_counter()
            conversion = pipeline.convert(codecs.decode(source), voice)
            next(conversion.speech)
            after_s = time.perf_counter() - start
            for _chunk in conversion.speech:
                pass
            start = time.perf_counter()
            live = pipeline.convert_live(codecs.decode(source), voice)
            first_s = 0.0
            for event in live.events():
                if isinstance(event, Audio) and not first_s:
                    first_s = time.perf_counter() - start
            total_s = time.perf_counter() - start
            table.add(audio.duration, naive_s, after_s, first_s, total_s, naive_s / first_s)
    table.notes.append(f"Peak RSS after this section: {peak_rss_mb():.0f} MiB.")
    return table


def _human_recording(clips: list[Clip], seconds: float) -> Audio:
    """`seconds` of audio: every human clip once (0.5 s pauses), repeated, cut to length."""
    parts: list[Audio] = []
    for clip in clips:
        parts += [clip.audio.resample(16000), Audio.silence(0.5, 16000)]
    once = Audio.concat(parts).samples
    reps = int(seconds * 16000 // len(once)) + 1
    return Audio(np.tile(once, reps)[: int(seconds * 16000)], 16000)
