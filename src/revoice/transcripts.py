"""Transcript output formats: plain text, JSON, SRT and WebVTT subtitles.

Subtitles are cut to the size viewers read (the rule of broadcast and streaming guidelines,
and of Whisper's own writers' line options): a cue holds at most two lines of at most
`MAX_LINE` characters and lasts at most `MAX_CUE_SECONDS`; cues end at sentence ends, at
pauses of `PAUSE_BREAK` seconds or more, and, when a sentence is too long for one cue, at the
last clause mark (, ; :) or pause that fits, else between words. A cue stays up at least
`MIN_CUE_SECONDS` when the next one leaves room. The times come from Whisper's word
timestamps; a segment without them has its words timed by their share of its characters.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from revoice.errors import InvalidOption
from revoice.text import _is_abbreviation
from revoice.types import Segment, Transcript, Word

TEXT_FORMATS = ("text", "json", "srt", "vtt", "verbose_json")

#: characters a subtitle line holds (Netflix's and the BBC's 42 for Latin script)
MAX_LINE = 42
#: lines a cue holds
MAX_LINES = 2
#: the longest a cue stays on screen (Netflix: 7 s)
MAX_CUE_SECONDS = 7.0
#: the shortest a cue stays on screen, when the next cue leaves room
MIN_CUE_SECONDS = 1.0
#: silence between two words (seconds) that always ends a cue
PAUSE_BREAK = 1.0
#: silence that makes a good place to cut a sentence too long for one cue
_PAUSE_CUT = 0.3

_SENTENCE_END = re.compile(r"[.!?…।॥。！？]+[\"'”’»)\]]*$")
_CLAUSE_END = re.compile(r"[,;:—–،、，；：]+[\"'”’»)\]]*$")


@dataclass(frozen=True)
class Cue:
    """One subtitle: its time on screen and its lines."""

    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def _words(segment: Segment) -> list[Word]:
    """The segment's timed words; without word timestamps, its words timed by their share of
    its characters."""
    spoken = [w for w in segment.words if w.word.strip()]
    if spoken:
        return spoken
    pieces = re.findall(r"\s*\S+", segment.text)
    total = sum(len(p.strip()) for p in pieces) or 1
    span = max(segment.end - segment.start, 0.0)
    words, at = [], segment.start
    for piece in pieces:
        step = span * len(piece.strip()) / total
        words.append(Word(at, at + step, piece if piece[0].isspace() else f" {piece}", 1.0))
        at += step
    return words


def _joined(words: list[Word]) -> str:
    return "".join(w.word for w in words).strip()


def _lines(words: list[Word]) -> tuple[str, ...] | None:
    """The words on at most `MAX_LINES` lines of `MAX_LINE` characters, split at the word
    boundary that balances the lines best; None when they do not fit."""
    whole = _joined(words)
    if len(whole) <= MAX_LINE:
        return (whole,)
    if len(words) == 1:
        return None
    best: tuple[int, str, str] | None = None
    for k in range(1, len(words)):
        top, bottom = _joined(words[:k]), _joined(words[k:])
        if len(top) > MAX_LINE or len(bottom) > MAX_LINE:
            continue
        # balanced lines, but a cut after a clause or sentence mark outweighs 12 characters
        score = max(len(top), len(bottom)) - (
            12 if _CLAUSE_END.search(top) or _SENTENCE_END.search(top) else 0
        )
        if best is None or score < best[0]:
            best = (score, top, bottom)
    return None if best is None else (best[1], best[2])


def _ends_sentence(word: Word) -> bool:
    text = word.word.strip()
    return bool(_SENTENCE_END.search(text)) and not _is_abbreviation(text)


def _fits(words: list[Word]) -> bool:
    return words[-1].end - words[0].start <= MAX_CUE_SECONDS and _lines(words) is not None


def _cut(words: list[Word]) -> int:
    """Where to cut words that cannot stay in one cue with the next: after the last sentence
    end, else the last clause mark, else the last pause, else after the last word (never so
    early that the first cue is a scrap)."""
    chars = len(_joined(words))
    best, rank = len(words), 0
    for k in range(1, len(words) + 1):
        head = words[:k]
        if len(_joined(head)) < chars / 3 and head[-1].end - head[0].start < MIN_CUE_SECONDS:
            continue
        last = words[k - 1]
        if _ends_sentence(last):
            kind = 3
        elif _CLAUSE_END.search(last.word.strip()):
            kind = 2
        elif k < len(words) and words[k].start - last.end >= _PAUSE_CUT:
            kind = 1
        else:
            kind = 0
        if kind >= rank:
            best, rank = k, kind
    return best


def cues(transcript: Transcript) -> list[Cue]:
    """The transcript cut into subtitle cues (see the module's rule)."""
    words = [w for s in transcript.segments for w in _words(s)]
    groups: list[list[Word]] = []
    current: list[Word] = []
    for i, word in enumerate(words):
        while current and not _fits([*current, word]):
            k = _cut(current)
            groups.append(current[:k])
            current = current[k:]
        current.append(word)
        following = words[i + 1] if i + 1 < len(words) else None
        gap = following.start - word.end if following else 0.0
        lasted = word.end - current[0].start
        sentence_done = _ends_sentence(word) and (lasted >= MIN_CUE_SECONDS or gap >= _PAUSE_CUT)
        if following is None or gap >= PAUSE_BREAK or sentence_done:
            groups.append(current)
            current = []
    out: list[Cue] = []
    for n, group in enumerate(groups):
        start = max(group[0].start, out[-1].end if out else 0.0)
        end = max(group[-1].end, start)
        nxt = groups[n + 1][0].start if n + 1 < len(groups) else None
        # never past the next cue, nor past the end of the recording
        room = max(transcript.duration if nxt is None else nxt, end)
        end = max(end, min(start + MIN_CUE_SECONDS, room), start + 0.01)  # never empty
        out.append(Cue(start, end, _lines(group) or (_joined(group),)))
    return out


def to_srt(transcript: Transcript) -> str:
    blocks = [
        f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text}\n"
        for i, c in enumerate(cues(transcript), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(transcript: Transcript) -> str:
    blocks = [
        f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{c.text}\n" for c in cues(transcript)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def _segment(s: Segment) -> dict[str, Any]:
    """A segment in OpenAI's verbose_json shape; Whisper's decoding facts (tokens, seek,
    temperature, compression ratio) only when the engine reported them."""
    out: dict[str, Any] = {"id": s.id}
    if s.tokens:
        out["seek"] = s.seek
    out.update(start=s.start, end=s.end, text=s.text)
    if s.tokens:
        out["tokens"] = list(s.tokens)
    if s.temperature is not None:
        out["temperature"] = s.temperature
    out["avg_logprob"] = s.avg_logprob
    if s.compression_ratio is not None:
        out["compression_ratio"] = s.compression_ratio
    out["no_speech_prob"] = s.no_speech_prob
    return out


def to_verbose(transcript: Transcript, words: bool = False) -> dict[str, Any]:
    """OpenAI's verbose_json shape (plus the language probability)."""
    out: dict[str, Any] = {
        "task": transcript.task,
        "language": transcript.language,
        "language_probability": transcript.language_probability,
        "duration": transcript.duration,
        "text": transcript.text,
        "segments": [_segment(s) for s in transcript.segments],
    }
    if words:
        out["words"] = [asdict(w) for s in transcript.segments for w in s.words]
    return out


def render(transcript: Transcript, fmt: str) -> str:
    """The transcript as a string in `fmt` (text, json, verbose_json, srt, vtt); verbose_json
    lists words when the transcript has word timestamps."""
    if fmt == "text":
        return transcript.text
    if fmt == "json":
        return json.dumps({"text": transcript.text}, ensure_ascii=False)
    if fmt == "verbose_json":
        timed = any(s.words for s in transcript.segments)
        return json.dumps(to_verbose(transcript, words=timed), ensure_ascii=False)
    if fmt == "srt":
        return to_srt(transcript)
    if fmt == "vtt":
        return to_vtt(transcript)
    raise InvalidOption(
        f"unknown transcript format {fmt!r}; choose one of: {', '.join(TEXT_FORMATS)}",
        "response_format",
    )
