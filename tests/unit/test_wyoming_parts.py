"""The Wyoming door's pure parts, with no engines: raw PCM, streamed sentences, event reading,
the describe answer, and OpenAI's 24 kHz pcm."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from wyoming.event import Event

from revoice import codecs
from revoice.audio import Audio
from revoice.config import Settings
from revoice.errors import AudioDecodeError, BadEvent, InputTooLarge
from revoice.text import take_sentences
from revoice.types import Voice
from revoice.voices import Catalogue
from revoice.wyoming_door import check_uri
from revoice.wyoming_door.handler import read_event
from revoice.wyoming_door.info import describe


def test_decode_raw_reads_every_width_and_downmixes() -> None:
    pcm16 = np.array([0, 16384, -32768], dtype="<i2").tobytes()
    assert codecs.decode_raw(pcm16, 16000, 2, 1).tolist() == [0.0, 0.5, -1.0]
    assert codecs.decode_raw(bytes([128, 192, 0]), 8000, 1, 1).tolist() == [0.0, 0.5, -1.0]
    pcm32 = np.array([1 << 30], dtype="<i4").tobytes()
    assert codecs.decode_raw(pcm32, 16000, 4, 1).tolist() == [0.5]
    stereo = np.array([16384, 0, -16384, -16384], dtype="<i2").tobytes()
    assert codecs.decode_raw(stereo + b"\x01", 16000, 2, 2).tolist() == [0.25, -0.5]


@pytest.mark.parametrize(("rate", "width", "channels"), [(16000, 3, 1), (0, 2, 1), (16000, 2, 0)])
def test_decode_raw_refuses_formats_it_cannot_read(rate: int, width: int, channels: int) -> None:
    with pytest.raises(AudioDecodeError):
        codecs.decode_raw(b"", rate, width, channels)


def test_take_sentences_waits_for_what_follows_a_sentence() -> None:
    assert take_sentences("Hello there") == ("", "Hello there")
    assert take_sentences("It costs 3.") == ("", "It costs 3.")  # "5 dollars" may follow
    ready, rest = take_sentences("It costs 3.5 dollars. And")
    assert (ready, rest) == ("It costs 3.5 dollars.", "And")
    assert take_sentences("One. Two! ") == ("One. Two!", "")
    assert take_sentences("One. Two ") == ("One.", "Two ")  # "Two" and " more" stay apart
    assert take_sentences("नमस्ते। आप") == ("नमस्ते।", "आप")


def _reader(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


def _read(data: bytes, limit: int = 1000) -> Event | None:
    async def main() -> Event | None:
        return await read_event(_reader(data), limit)

    return asyncio.run(main())


def test_read_event_reads_data_and_payload() -> None:
    header = {"type": "audio-chunk", "data": {"rate": 16000}, "data_length": 24}
    extra = json.dumps({"width": 2, "channels": 1}).encode()
    header["data_length"] = len(extra)
    header["payload_length"] = 4
    event = _read(json.dumps(header).encode() + b"\n" + extra + b"\x00\x01\x02\x03")
    assert event is not None and event.type == "audio-chunk"
    assert event.data == {"rate": 16000, "width": 2, "channels": 1}
    assert event.payload == b"\x00\x01\x02\x03"
    assert _read(b"") is None
    truncated = json.dumps({"type": "audio-chunk", "payload_length": 10}).encode() + b"\n\x00"
    assert _read(truncated) is None  # the client left in the middle


def test_read_event_refuses_bad_headers_and_big_payloads() -> None:
    for line in (b"not json\n", b"[1, 2]\n", b'{"data": {}}\n', b'{"type": "x", "data": 3}\n'):
        with pytest.raises(BadEvent):
            _read(line)
    with pytest.raises(InputTooLarge):
        _read(json.dumps({"type": "audio-chunk", "payload_length": 1001}).encode() + b"\n")
    with pytest.raises(BadEvent):
        _read(json.dumps({"type": "audio-chunk", "payload_length": -1}).encode() + b"\n")


def test_describe_marks_voices_of_broken_engines_not_installed() -> None:
    voices = [
        Voice("a", "piper", ("en",), "male", 22050, "A"),
        Voice("b", "kokoro", ("en", "hi"), "female", 24000, "B"),
        Voice("c", "no-such-engine", ("en",), "male", 16000, "C"),
    ]
    info = describe(Settings(), Catalogue(voices), broken={"kokoro"})
    installed = {v.name: v.installed for v in info.tts[0].voices}
    assert installed == {"a": True, "b": False, "c": False}
    languages = {v.name: v.languages for v in info.tts[0].voices}
    assert languages["b"] == ["en", "hi"]
    models = info.asr[0].models
    assert models[0].name == "base" and "hi" in models[0].languages
    assert Event.from_dict(info.event().to_dict()).type == "info"


@pytest.mark.parametrize(
    "uri", ["tcp://0.0.0.0:10300", "tcp://[::]:10300", "unix:///run/revoice.sock"]
)
def test_check_uri_accepts_tcp_and_unix(uri: str) -> None:
    assert check_uri(uri) == uri


@pytest.mark.parametrize("uri", ["0.0.0.0:10300", "tcp://0.0.0.0", "http://x:1", "stdio://"])
def test_check_uri_refuses_others(uri: str) -> None:
    with pytest.raises(Exception, match="tcp://"):
        check_uri(uri)


def test_openai_pcm_is_24_khz_and_pcm_native_keeps_the_rate() -> None:
    audio = Audio(np.zeros(22050, dtype=np.float32), 22050)
    assert len(codecs.encode(audio, "pcm")) == 2 * 24000
    assert len(codecs.encode(audio, "pcm_native")) == 2 * 22050
    assert codecs.get_format("pcm").rate_for(16000) == 24000
