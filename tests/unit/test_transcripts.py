"""Transcript rendering: text, json, verbose_json, SRT and WebVTT."""

from __future__ import annotations

import json
import re

import pytest

from revoice.errors import InvalidOption
from revoice.transcripts import TEXT_FORMATS, _stamp, render, to_srt, to_verbose, to_vtt
from revoice.types import Segment, Transcript, Word


@pytest.fixture()
def transcript() -> Transcript:
    return Transcript(
        text="Hello there. नमस्ते दुनिया।",
        language="en",
        duration=3661.9,
        language_probability=0.93,
        segments=(
            Segment(
                0,
                0.0,
                1.25,
                "Hello there.",
                avg_logprob=-0.2,
                no_speech_prob=0.01,
                words=(Word(0.0, 0.5, " Hello", 0.9), Word(0.6, 1.25, " there.", 0.8)),
            ),
            Segment(
                1,
                3600.0,
                3661.5,
                "नमस्ते दुनिया।",
                avg_logprob=-0.4,
                no_speech_prob=0.02,
                words=(Word(3600.0, 3661.5, " नमस्ते", 0.7),),
            ),
        ),
    )


@pytest.mark.parametrize(
    ("seconds", "srt", "vtt"),
    [
        (0.0, "00:00:00,000", "00:00:00.000"),
        (1.0, "00:00:01,000", "00:00:01.000"),
        (59.999, "00:00:59,999", "00:00:59.999"),
        (59.9996, "00:01:00,000", "00:01:00.000"),  # rounds up across the minute
        (61.25, "00:01:01,250", "00:01:01.250"),
        (3661.5, "01:01:01,500", "01:01:01.500"),
        (36000.001, "10:00:00,001", "10:00:00.001"),
        (360000.0, "100:00:00,000", "100:00:00.000"),
        (-0.5, "00:00:00,000", "00:00:00.000"),  # never negative
    ],
)
def test_timestamps(seconds: float, srt: str, vtt: str) -> None:
    assert _stamp(seconds, ",") == srt
    assert _stamp(seconds, ".") == vtt


def test_srt(transcript: Transcript) -> None:
    assert to_srt(transcript) == (
        "1\n00:00:00,000 --> 00:00:01,250\nHello there.\n"
        "\n"
        "2\n01:00:00,000 --> 01:01:01,500\nनमस्ते दुनिया।\n"
    )
    assert render(transcript, "srt") == to_srt(transcript)


def test_srt_numbering_counts_from_one_whatever_the_segment_ids() -> None:
    segments = tuple(Segment(i * 10 + 5, i, i + 0.5, f"line {i}") for i in range(12))
    out = to_srt(Transcript("", "en", 12.0, segments))
    blocks = out.strip("\n").split("\n\n")
    assert len(blocks) == 12
    assert [int(b.split("\n")[0]) for b in blocks] == list(range(1, 13))
    for block in blocks:
        _number, times, line = block.split("\n")
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", times)
        assert line.startswith("line ")


def test_vtt(transcript: Transcript) -> None:
    out = to_vtt(transcript)
    assert out == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.250\nHello there.\n"
        "\n"
        "01:00:00.000 --> 01:01:01.500\nनमस्ते दुनिया।\n"
    )
    assert render(transcript, "vtt") == out
    assert "," not in out.split("\n")[2]


def test_empty_transcript_renders() -> None:
    empty = Transcript("", "en", 0.0)
    assert render(empty, "text") == ""
    assert render(empty, "srt") == ""
    assert render(empty, "vtt") == "WEBVTT\n\n"
    assert json.loads(render(empty, "json")) == {"text": ""}
    assert json.loads(render(empty, "verbose_json"))["segments"] == []


def test_text_and_json(transcript: Transcript) -> None:
    assert render(transcript, "text") == "Hello there. नमस्ते दुनिया।"
    raw = render(transcript, "json")
    assert "नमस्ते" in raw  # not \\u-escaped
    assert json.loads(raw) == {"text": "Hello there. नमस्ते दुनिया।"}


def test_verbose_json_shape(transcript: Transcript) -> None:
    out = json.loads(render(transcript, "verbose_json"))
    assert set(out) == {
        "task",
        "language",
        "language_probability",
        "duration",
        "text",
        "segments",
        "words",
    }
    assert out["task"] == "transcribe"
    assert out["language"] == "en"
    assert out["language_probability"] == pytest.approx(0.93)
    assert out["duration"] == pytest.approx(3661.9)
    assert out["text"] == transcript.text
    assert len(out["segments"]) == 2
    first = out["segments"][0]
    assert set(first) == {
        "id",
        "seek",
        "start",
        "end",
        "text",
        "tokens",
        "temperature",
        "avg_logprob",
        "compression_ratio",
        "no_speech_prob",
    }
    assert (first["id"], first["start"], first["end"], first["text"]) == (
        0,
        0.0,
        1.25,
        "Hello there.",
    )
    assert first["avg_logprob"] == pytest.approx(-0.2)
    assert first["no_speech_prob"] == pytest.approx(0.01)
    assert out["segments"][1]["id"] == 1
    assert out["words"] == [
        {"start": 0.0, "end": 0.5, "word": " Hello", "probability": 0.9},
        {"start": 0.6, "end": 1.25, "word": " there.", "probability": 0.8},
        {"start": 3600.0, "end": 3661.5, "word": " नमस्ते", "probability": 0.7},
    ]


def test_to_verbose_without_words(transcript: Transcript) -> None:
    out = to_verbose(transcript)
    assert "words" not in out
    assert out["segments"][1]["text"] == "नमस्ते दुनिया।"
    translated = to_verbose(Transcript("hi", "hi", 1.0, task="translate"))
    assert translated["task"] == "translate"


def test_every_listed_format_renders(transcript: Transcript) -> None:
    for fmt in TEXT_FORMATS:
        assert isinstance(render(transcript, fmt), str)


@pytest.mark.parametrize("fmt", ["xml", "", "tsv", "verbose-json", "srt "])
def test_unknown_format_raises_invalid_option(transcript: Transcript, fmt: str) -> None:
    with pytest.raises(InvalidOption) as info:
        render(transcript, fmt)
    assert info.value.param == "response_format"
    message = str(info.value)
    assert repr(fmt) in message
    for name in TEXT_FORMATS:
        assert name in message
