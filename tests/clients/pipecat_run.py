"""Pipecat's OpenAI TTS and STT services in a Pipecat pipeline (imported only when installed)."""

from __future__ import annotations

from pipecat.frames.frames import (
    EndFrame,
    ErrorFrame,
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.runner import PipelineRunner
from pipecat.pipeline.task import PipelineParams, PipelineTask
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.openai.stt import OpenAISTTService
from pipecat.services.openai.tts import OpenAITTSService
from pipecat.transcriptions.language import Language

from revoice.audio import Audio

STT_RATE = 16000


class Collect(FrameProcessor):
    """The last processor: keeps the audio, transcriptions and errors that reach it."""

    def __init__(self) -> None:
        super().__init__()
        self.pcm = b""
        self.rates: set[int] = set()
        self.texts: list[str] = []
        self.errors: list[str] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, TTSAudioRawFrame):
            self.pcm += frame.audio
            self.rates.add(frame.sample_rate)
        elif isinstance(frame, TranscriptionFrame):
            self.texts.append(frame.text)
        elif isinstance(frame, ErrorFrame):
            self.errors.append(frame.error)
        await self.push_frame(frame, direction)


async def _run(processor: FrameProcessor, frames: list[Frame], **params: int) -> Collect:
    out = Collect()
    task = PipelineTask(Pipeline([processor, out]), params=PipelineParams(**params))
    await task.queue_frames([*frames, EndFrame()])
    await PipelineRunner(handle_sigint=False).run(task)
    return out


async def speak(base_url: str, voice: str, text: str) -> tuple[bytes, set[int], list[str]]:
    """(pcm, the sample rates its frames declare, errors) of OpenAITTSService saying `text`."""
    settings = OpenAITTSService.Settings(voice=voice, model="tts-1")
    tts = OpenAITTSService(api_key="unused", base_url=base_url, settings=settings)
    out = await _run(tts, [TTSSpeakFrame(text)], audio_out_sample_rate=24000)
    return out.pcm, out.rates, out.errors


async def hear(base_url: str, audio: Audio) -> tuple[list[str], list[str]]:
    """(transcriptions, errors) of OpenAISTTService given `audio` as one spoken turn."""
    settings = OpenAISTTService.Settings(model="whisper-1", language=Language.EN)
    stt = OpenAISTTService(api_key="unused", base_url=base_url, settings=settings)
    pcm = audio.resample(STT_RATE).to_int16().astype("<i2").tobytes()
    step = STT_RATE // 50 * 2  # 20 ms frames, as a transport sends them
    frames: list[Frame] = [VADUserStartedSpeakingFrame()]
    frames += [InputAudioRawFrame(pcm[i : i + step], STT_RATE, 1) for i in range(0, len(pcm), step)]
    frames.append(VADUserStoppedSpeakingFrame())
    out = await _run(stt, frames, audio_in_sample_rate=STT_RATE)
    return out.texts, out.errors
