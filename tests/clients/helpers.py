"""What the client tests share: Home Assistant's Wyoming calls, and hearing audio."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import numpy as np
from wyoming.asr import Transcribe, Transcript, TranscriptChunk
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeVoice,
)

from revoice import codecs
from revoice.audio import Audio
from tests.api.helpers import Server

T = TypeVar("T")
#: seconds to wait for one event (a transcription on a busy 2-core machine can take a while)
READ_TIMEOUT = 120.0
#: Home Assistant sends 16 kHz 16-bit mono, in chunks of about this many samples
HA_RATE, HA_CHUNK = 16000, 1024


def run(coroutine: Awaitable[T]) -> T:
    async def main() -> T:
        return await coroutine

    return asyncio.run(main())


def client(port: int) -> AsyncTcpClient:
    return AsyncTcpClient("127.0.0.1", port, connect_timeout=10, read_timeout=READ_TIMEOUT)


async def describe(port: int) -> Info:
    """What Home Assistant does when the integration is added (`load_wyoming_info`)."""
    async with client(port) as wy:
        await wy.write_event(Describe().event())
        while (event := await wy.read_event()) is not None:
            if Info.is_type(event.type):
                return Info.from_event(event)
    raise AssertionError("no info event")


def pcm16k(audio: Audio) -> bytes:
    return audio.resample(HA_RATE).to_int16().astype("<i2").tobytes()


@dataclass
class Heard:
    """What a transcription request got back, every event in order."""

    events: list[Event] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.events]

    @property
    def transcript(self) -> Transcript:
        return Transcript.from_event(next(e for e in self.events if e.type == "transcript"))

    @property
    def chunks(self) -> list[str]:
        chunks = [e for e in self.events if e.type == "transcript-chunk"]
        return [TranscriptChunk.from_event(e).text for e in chunks]


async def transcribe(port: int, pcm: bytes, language: str | None = None) -> Heard:
    """Home Assistant's `async_process_audio_stream`: transcribe, audio-start, chunks of
    16 kHz s16le mono, audio-stop; then events until the `transcript` (and, since we send
    them, until `transcript-stop`)."""
    heard = Heard()
    async with client(port) as wy:
        await wy.write_event(Transcribe(language=language).event())
        await wy.write_event(AudioStart(rate=HA_RATE, width=2, channels=1).event())
        step = HA_CHUNK * 2
        for offset in range(0, len(pcm), step):
            chunk = AudioChunk(rate=HA_RATE, width=2, channels=1, audio=pcm[offset : offset + step])
            await wy.write_event(chunk.event())
        await wy.write_event(AudioStop().event())
        while (event := await wy.read_event()) is not None:
            heard.events.append(event)
            if event.type in ("transcript-stop", "error"):
                break
    return heard


@dataclass
class Spoken:
    """Audio a synthesis request got back, with when each event came."""

    events: list[tuple[float, Event]] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [e.type for _, e in self.events]

    @property
    def start(self) -> AudioStart:
        return AudioStart.from_event(next(e for _, e in self.events if e.type == "audio-start"))

    @property
    def pcm(self) -> bytes:
        return b"".join(
            AudioChunk.from_event(e).audio for _, e in self.events if e.type == "audio-chunk"
        )

    @property
    def audio(self) -> Audio:
        return codecs.decode_pcm(self.pcm, self.start.rate)

    def wav(self) -> bytes:
        """The WAV file Home Assistant makes of the chunks."""
        with io.BytesIO() as buffer:
            with wave.open(buffer, "wb") as out:
                out.setframerate(self.start.rate)
                out.setsampwidth(self.start.width)
                out.setnchannels(self.start.channels)
                out.writeframes(self.pcm)
            return buffer.getvalue()


async def synthesize(port: int, text: str, voice: str | None = None, **extra: Any) -> Spoken:
    """Home Assistant's `async_get_tts_audio`: one `synthesize`, chunks until `audio-stop`."""
    spoken = Spoken()
    loop = asyncio.get_running_loop()
    async with client(port) as wy:
        chosen = SynthesizeVoice(name=voice, **extra) if voice or extra else None
        await wy.write_event(Synthesize(text=text, voice=chosen).event())
        while (event := await wy.read_event()) is not None:
            spoken.events.append((loop.time(), event))
            if event.type in ("audio-stop", "error"):
                break
    return spoken


@dataclass
class Streamed(Spoken):
    text_done_at: float = 0.0  # when the last text chunk was written


async def synthesize_streamed(
    port: int,
    parts: Sequence[str],
    voice: str | None = None,
    hold: Callable[[Spoken], bool] | None = None,
) -> Streamed:
    """Home Assistant's `async_stream_tts_audio`: text chunks written by one task while
    another reads audio; the whole text is repeated in a `synthesize` before
    `synthesize-stop`, for older servers. `hold(spoken)`: the writer waits, after the first
    half of the parts, until it is true of what was read so far (or 120 s pass)."""
    streamed = Streamed()
    loop = asyncio.get_running_loop()
    chosen = SynthesizeVoice(name=voice) if voice else None
    async with client(port) as wy:

        async def write() -> None:
            await wy.write_event(SynthesizeStart(voice=chosen).event())
            half = len(parts) // 2
            for i, part in enumerate(parts):
                if i == half and hold is not None:
                    deadline = loop.time() + READ_TIMEOUT
                    while not hold(streamed) and loop.time() < deadline:
                        await asyncio.sleep(0.05)
                await wy.write_event(SynthesizeChunk(text=part).event())
            streamed.text_done_at = loop.time()
            await wy.write_event(Synthesize(text="".join(parts), voice=chosen).event())
            await wy.write_event(SynthesizeStop().event())

        writer = asyncio.ensure_future(write())
        try:
            while (event := await wy.read_event()) is not None:
                streamed.events.append((loop.time(), event))
                if event.type in ("synthesize-stopped", "error"):
                    break
            await writer
        finally:
            writer.cancel()
    return streamed


def hear(server: Server, audio: Audio, language: str = "en") -> str:
    """What the server's speech recognition hears in `audio` (over HTTP)."""
    wav = codecs.encode(audio, "wav")
    response = httpx.post(
        f"{server.base_url}/v1/audio/transcriptions",
        files={"file": ("speech.wav", wav, "audio/wav")},
        data={"model": "whisper-1", "language": language},
        timeout=READ_TIMEOUT,
        trust_env=False,
    )
    response.raise_for_status()
    return str(response.json()["text"])


def seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / 2 / rate


def silence(seconds_: float) -> bytes:
    return np.zeros(int(seconds_ * HA_RATE), dtype="<i2").tobytes()
