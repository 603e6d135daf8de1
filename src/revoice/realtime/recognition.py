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


def recognize(
    rt: Runtime, config: SessionConfig, voice: Voice | None, audio: Audio, turn: Turn
) -> Transcript:
    """Transcribe part of a turn with word timings (blocking: call it in a worker thread). The
    language is settled on the turn's first decode: the session's, or a hint from the voice."""
    pipeline = rt.pipeline
    task: Task = "translate" if config.mode == "translate" else "transcribe"
    model = asr_model(rt, config.transcription_model)
    if not turn.language_known:
        turn.language = (
            pipeline.language_for(audio, voice or pipeline.voice(None), config.language, model)
            if task == "transcribe"
            else config.language
        )
        turn.language_known = True
    options = TranscribeOptions(
        language=turn.language, task=task, prompt=config.prompt, word_timestamps=True
    )
    return pipeline.transcribe(audio, options, model)
