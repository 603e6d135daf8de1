"""Transcript output formats: plain text, JSON, SRT and WebVTT subtitles."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from revoice.errors import InvalidOption
from revoice.types import Transcript

TEXT_FORMATS = ("text", "json", "srt", "vtt", "verbose_json")


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def to_srt(transcript: Transcript) -> str:
    blocks = [
        f"{i}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{s.text}\n"
        for i, s in enumerate(transcript.segments, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(transcript: Transcript) -> str:
    blocks = [
        f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{s.text}\n" for s in transcript.segments
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_verbose(transcript: Transcript, words: bool = False) -> dict[str, Any]:
    """OpenAI's verbose_json shape (plus the language probability)."""
    out: dict[str, Any] = {
        "task": transcript.task,
        "language": transcript.language,
        "language_probability": transcript.language_probability,
        "duration": transcript.duration,
        "text": transcript.text,
        "segments": [
            {
                "id": s.id,
                "seek": 0,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": s.avg_logprob,
                "compression_ratio": 0.0,
                "no_speech_prob": s.no_speech_prob,
            }
            for s in transcript.segments
        ],
    }
    if words:
        out["words"] = [asdict(w) for s in transcript.segments for w in s.words]
    return out


def render(transcript: Transcript, fmt: str) -> str:
    """The transcript as a string in `fmt` (text, json, verbose_json, srt, vtt)."""
    if fmt == "text":
        return transcript.text
    if fmt == "json":
        return json.dumps({"text": transcript.text}, ensure_ascii=False)
    if fmt == "verbose_json":
        return json.dumps(to_verbose(transcript, words=True), ensure_ascii=False)
    if fmt == "srt":
        return to_srt(transcript)
    if fmt == "vtt":
        return to_vtt(transcript)
    raise InvalidOption(
        f"unknown transcript format {fmt!r}; choose one of: {', '.join(TEXT_FORMATS)}",
        "response_format",
    )
