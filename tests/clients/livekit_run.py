"""LiveKit Agents' OpenAI TTS and STT (imported only when livekit-plugins-openai is installed)."""

from __future__ import annotations

import aiohttp
import numpy as np
from livekit import rtc
from livekit.agents import utils
from livekit.plugins import openai as lk_openai

from revoice.audio import Audio


async def speak(base_url: str, model: str, text: str) -> Audio:
    """What LiveKit's OpenAI TTS (default voice ash, mp3) plays for `text`."""
    async with aiohttp.ClientSession():
        tts = lk_openai.TTS(base_url=base_url, api_key="unused", model=model)
        try:
            frame = await tts.synthesize(text).collect()
        finally:
            await tts.aclose()
    samples = np.frombuffer(bytes(frame.data), dtype="<i2").astype(np.float32) / 32768.0
    return Audio(samples, frame.sample_rate)


async def hear(base_url: str, model: str, audio: Audio) -> tuple[str, str]:
    """(text, language) LiveKit's OpenAI STT recognises in `audio` (sent as 24 kHz frames)."""
    rate = 24000
    pcm = audio.resample(rate).to_int16()
    frame = rtc.AudioFrame(pcm.tobytes(), rate, 1, len(pcm))
    stt = lk_openai.STT(base_url=base_url, api_key="unused", model=model, language="en")
    try:
        event = await stt.recognize([frame])
    finally:
        await stt.aclose()
    best = event.alternatives[0]
    return best.text, str(best.language)


__all__ = ["hear", "speak", "utils"]
