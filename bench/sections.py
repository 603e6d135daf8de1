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


#: the opening of A Tale of Two Cities (Dickens, 1859; public domain): a sentence of 119 words
#: with nothing but commas until its end, then the next one; about 45 s read aloud
RUN_ON = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the "
    "age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the "
    "season of Light, it was the season of Darkness, it was the spring of hope, it was the "
    "winter of despair, we had everything before us, we had nothing before us, we were all "
    "going direct to Heaven, we were all going direct the other way, in short, the period was "
    "so far like the present period, that some of its noisiest authorities insisted on its "
    "being received, for good or for evil, in the superlative degree of comparison only. "
    "There were a king with a large jaw and a queen with a plain face, on the throne of "
    "England; there were a king with a large jaw and a queen with a fair face, on the throne "
    "of France."
)


def run_on(pipeline: Pipeline, reader: str, voice: str, runs: int, text: str = RUN_ON) -> Table:
    """Live voice to voice of one long sentence: Whisper's first segments end at pauses, not
    at a full stop, and must be spoken there, not after the next 30 s window (#15)."""
    reading = Audio.concat(pipeline.speak(text, reader)).resample(16000)
    table = Table(
        f"Live voice to voice of a {reading.duration:.0f} s reading that opens with a run-on "
        f"sentence ({voice})",
        ["run", "first segment", "live first audio s", "after-transcript first audio s"],
    )
    for run in range(1, runs + 1):
        start = time.perf_counter()
        live = pipeline.convert_live(reading, voice)
        first_s = 0.0
        for event in live.events():
            if isinstance(event, Audio) and not first_s:
                first_s = time.perf_counter() - start
        first_segment = live.transcript.segments[0].text.strip()
        start = time.perf_counter()
        conversion = pipeline.convert(reading, voice)
        next(conversion.speech)
        after_s = time.perf_counter() - start
        for _chunk in conversion.speech:
            pass
        table.add(run, f'"{first_segment}"', first_s, after_s)
    table.notes.append(
        f"The recording: {reader} reading the opening of A Tale of Two Cities "
        f"({len(text.split())} words; the first sentence, 119 of them, has only commas), "
        f"{reading.duration:.1f} s, language detected; in process, "
        "the two ways alternating. Live: each stretch of speech is said as soon as Whisper "
        "has decoded it (at a sentence end, or at a pause while it decodes the next); after "
        "the transcript: the whole recording is transcribed first."
    )
    return table


def _human_recording(clips: list[Clip], seconds: float) -> Audio:
    """`seconds` of audio: every human clip once (0.5 s pauses), repeated, cut to length."""
    parts: list[Audio] = []
    for clip in clips:
        parts += [clip.audio.resample(16000), Audio.silence(0.5, 16000)]
    once = Audio.concat(parts).samples
    reps = int(seconds * 16000 // len(once)) + 1
    return Audio(np.tile(once, reps)[: int(seconds * 16000)], 16000)


def encoder_window(home: Path, clips: list[Clip]) -> Table:
    """Whisper's encoder on 30 s of padding (faster-whisper's way) vs the speech's own length
    (at least `asr.min_window_seconds`): WER and cost on the same clips, in one process."""
    import resource

    from revoice.config import ASRSettings, Settings

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    table = Table(
        "Whisper's encoder window (Whisper base, human clips, language detected)",
        ["window", "WER", "wall s", "CPU-s", "x 30 s (wall)", "x 30 s (CPU)"],
    )
    rows = []
    for window in (30.0, 10.0, 5.0):
        settings = Settings(
            home=home, voices=home / "none.toml", asr=ASRSettings(min_window_seconds=window)
        )
        pipeline = Pipeline(settings)
        pipeline.transcribe(clips[0].audio)  # load and warm
        spent, started = cpu(), time.perf_counter()
        hyps = [pipeline.transcribe(c.audio).text for c in clips]
        rows.append(
            (
                window,
                wer([c.transcript for c in clips], hyps),
                time.perf_counter() - started,
                cpu() - spent,
            )
        )
    for window, rate, wall, used in rows:
        label = "30 s (padded: faster-whisper)" if window == 30 else f"own length, >= {window:g} s"
        table.add(label, rate, wall, used, f"{wall / rows[0][2]:.2f}", f"{used / rows[0][3]:.2f}")
    audio = sum(c.audio.duration for c in clips)
    table.notes.append(
        f"{len(clips)} clips, {audio:.0f} s of audio, one after another; language detected on "
        "the same window as the transcription. The default is 10 s "
        "(`REVOICE_ASR__MIN_WINDOW_SECONDS`): at 5 s, Kokoro's synthetic English and Hindi "
        "were misheard in the round-trip tests."
    )
    return table


#: Hindi sentences for language detection, spoken by the Hindi presets
_HINDI_LID = (
    "मेरा नाम राम है। मैं दिल्ली में रहता हूँ।",
    "आज मौसम बहुत अच्छा है और हम पार्क में घूमने जा रहे हैं।",
    "कृपया मुझे कल सुबह फ़ोन कीजिए।",
)


def language_detection(pipeline: Pipeline, clips: list[Clip], rounds: int = 3) -> Table:
    """Whisper's language identification on 30 s of padding (faster-whisper's way) vs the
    speech's own encoder window (revoice's): the language found, how sure, and the time, on
    the same audio side by side; then a whole voice to voice with each."""
    from revoice.asr import faster_whisper as fw

    asr = pipeline.models.asr()
    asr.load()
    model = asr._model  # type: ignore[attr-defined]

    def detect(samples: np.ndarray, padded: bool) -> tuple[str, float, float]:
        fw._full_window.on = padded
        try:
            started = time.perf_counter()
            for _ in range(rounds):
                language, probability, _ = model.detect_language(samples[: 30 * 16000])
            return str(language), float(probability), (time.perf_counter() - started) / rounds
        finally:
            fw._full_window.on = False

    inputs = [(c.name, c.audio) for c in clips]
    for voice in ("hindi-female-2", "hindi-male-1"):
        for i, text in enumerate(_HINDI_LID):
            inputs.append((f"{voice} (Hindi {i + 1})", Audio.concat(pipeline.speak(text, voice))))
    table = Table(
        "Language detection: Whisper's 30 s window vs the speech's own (Whisper base)",
        ["audio", "s", "30 s: language (p)", "30 s: s", "own: language (p)", "own: s"],
    )
    same, padded_times, own_times = 0, [], []
    for name, audio in inputs:
        samples = audio.resample(16000).samples
        a, b = detect(samples, True), detect(samples, False)
        same += a[0] == b[0]
        padded_times.append(a[2])
        own_times.append(b[2])
        table.add(name, audio.duration, f"{a[0]} ({a[1]:.2f})", a[2], f"{b[0]} ({b[1]:.2f})", b[2])
    table.notes.append(
        f"{len(inputs)} inputs ({len(clips)} human English clips, {len(inputs) - len(clips)} "
        f"Kokoro Hindi sentences), each detected {rounds} times per window: the same language "
        f"in {same} of {len(inputs)}; median {statistics.median(padded_times):.3f} s against "
        f"{statistics.median(own_times):.3f} s "
        f"(x{statistics.median(own_times) / statistics.median(padded_times):.2f}). revoice "
        "detects on the speech's own window (at least 10 s). Hindi probabilities are low "
        "either way, which is why a Hindi voice's language wins unless English is sure "
        "(asr.base.settle_language)."
    )
    clip = clips[0]
    original = fw.FasterWhisperTranscriber._detect

    def padded_detect(self: object, speech: np.ndarray) -> tuple[str, float]:
        fw._full_window.on = True
        try:
            return original(self, speech)  # type: ignore[arg-type]
        finally:
            fw._full_window.on = False

    def convert() -> float:
        started = time.perf_counter()
        Audio.concat(list(pipeline.convert(clip.audio, "english-male-1").speech))
        return time.perf_counter() - started

    times: dict[str, list[float]] = {"30 s": [], "own": []}
    try:
        for i in range(8):
            for key, method in (("30 s", padded_detect), ("own", original)):
                fw.FasterWhisperTranscriber._detect = method  # type: ignore[method-assign]
                spent = convert()
                if i:  # the first round warms up
                    times[key].append(spent)
    finally:
        fw.FasterWhisperTranscriber._detect = original  # type: ignore[method-assign]
    slow, quick = statistics.median(times["30 s"]), statistics.median(times["own"])
    table.notes.append(
        f"Voice to voice of {clip.name} ({clip.audio.duration:.1f} s, english-male-1, language "
        f"detected), in process, 7 alternating runs each: {slow:.3f} s with detection on 30 s, "
        f"{quick:.3f} s on the speech's own window (x{quick / slow:.2f})."
    )
    return table
