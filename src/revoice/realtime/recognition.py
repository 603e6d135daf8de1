"""Recognition of a turn: its state while heard, and one decode of it through the Pipeline."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from revoice.api.deps import Runtime
from revoice.api.routes import audio as audio_routes
from revoice.audio import Audio
from revoice.realtime.hearing import LiveTranscript
from revoice.realtime.session import SessionConfig
from revoice.types import Task, TranscribeOptions, Transcript, Voice

#: a language Whisper detected on this much speech, this surely, holds for the rest of a turn
SURE_SECONDS = 1.0
SURE_PROBABILITY = 0.9
#: languages whose last pass may be greedy: English WER held with beam 1, Hindi CER went from
#: 0.39 to 2.08 (BENCHMARKS.md, "ASR knobs"), so other languages keep `asr.beam_size`
GREEDY_SAFE = frozenset({"en"})


def running(task: asyncio.Task[None] | None) -> bool:
    return task is not None and not task.done()


def asr_model(rt: Runtime, name: str | None) -> str | None:
    """The Whisper model a session's `transcription.model` names: OpenAI's names (`whisper-1`,
    `gpt-4o-transcribe`, `gpt-realtime-whisper`, ...) mean the configured one; others must be
    models `/v1/models` lists."""
    if name and (
        name == "gpt-realtime-whisper" or (name.startswith("gpt-") and "transcribe" in name)
    ):
        return None
    return audio_routes.asr_model(rt, name)


@dataclass
class Turn:
    """The speech of one user item, while it is being heard."""

    item_id: str
    live: LiveTranscript
    language: str | None = None
    language_known: bool = False
    #: the decode in progress (a partial pass or a guess): one at a time per turn
    job: asyncio.Task[None] | None = None
    last_partial: float = 0.0  # when the last partial pass ended
    #: the last pass's hypothesis: (window offset, what had been heard, transcript)
    guess: tuple[int, int, Transcript] | None = None
    guess_mark: int = -1  # the detector's speech_windows when that pause began
    judged_mark: int = -1  # the same, for the pause Smart Turn last judged
    #: the detector's speech_windows when the turn was committed
    final_mark: int = -2
    #: where its speech ended (samples into the turn), when turn detection says
    speech_end: int = 0
    committed_at: float = 0.0  # time.monotonic() when it was committed


def recognize(
    rt: Runtime,
    config: SessionConfig,
    voice: Voice | None,
    audio: Audio,
    turn: Turn,
    last: bool = False,
) -> Transcript:
    """Transcribe part of a turn with word timings (blocking: call it in a worker thread). The
    language is the session's, or a hint from the voice; failing both, Whisper detects it
    until it has found it surely once (`SURE_SECONDS`, `SURE_PROBABILITY`) for the turn.
    `last`: the pass that may end the turn (at a pause, or after the commit), decoded with
    `realtime.beam_size` (greedy by default) for speed when the turn is English; partial
    passes, and other languages, use `asr.beam_size`."""
    pipeline = rt.pipeline
    task: Task = "translate" if config.mode == "translate" else "transcribe"
    model = asr_model(rt, config.transcription_model)
    if not turn.language_known:
        turn.language = (
            pipeline.language_for(audio, voice or pipeline.voice(None), config.language, model)
            if task == "transcribe"
            else config.language
        )
        turn.language_known = turn.language is not None
    options = TranscribeOptions(
        language=turn.language,
        task=task,
        prompt=config.prompt,
        word_timestamps=True,
        beam_size=(
            rt.settings.realtime.beam_size if last and turn.language in GREEDY_SAFE else None
        ),
    )
    transcript = pipeline.transcribe(audio, options, model)
    if (
        not turn.language_known
        and transcript.text
        and len(audio.samples) >= SURE_SECONDS * audio.sample_rate
        and transcript.language_probability >= SURE_PROBABILITY
    ):
        # Whisper detected it on enough speech, surely: the turn's later passes reuse it
        # (detection is a whole extra 30 s encoder pass, on every pass otherwise)
        turn.language, turn.language_known = transcript.language, True
    return transcript
