"""Transcript rendering: text, json, verbose_json, SRT and WebVTT."""

from __future__ import annotations

import json
import re

import pytest

from revoice.errors import InvalidOption
from revoice.transcripts import (
    MAX_CUE_SECONDS,
    MAX_LINE,
    MAX_LINES,
    MIN_CUE_SECONDS,
    TEXT_FORMATS,
    Cue,
    _stamp,
    cues,
    render,
    to_srt,
    to_verbose,
    to_vtt,
)
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
                # as faster-whisper reports them; the second segment has none (as a
                # transcript pieced together by the realtime door)
                tokens=(2425, 456, 13),
                compression_ratio=0.75,
                temperature=0.0,
                seek=0,
            ),
            Segment(
                1,
                3600.0,
                3601.5,
                "नमस्ते दुनिया।",
                avg_logprob=-0.4,
                no_speech_prob=0.02,
                words=(Word(3600.0, 3600.6, " नमस्ते", 0.7), Word(3600.7, 3601.5, " दुनिया।", 0.6)),
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
        "2\n01:00:00,000 --> 01:00:01,500\nनमस्ते दुनिया।\n"
    )
    assert render(transcript, "srt") == to_srt(transcript)


def test_srt_numbering_counts_from_one_whatever_the_segment_ids() -> None:
    # a pause of PAUSE_BREAK or more between the segments: one cue each
    segments = tuple(Segment(i * 10 + 5, 2 * i, 2 * i + 0.5, f"line {i}") for i in range(12))
    out = to_srt(Transcript("", "en", 24.0, segments))
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
        "01:00:00.000 --> 01:00:01.500\nनमस्ते दुनिया।\n"
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
    assert (first["id"], first["start"], first["end"], first["text"]) == (
        0,
        0.0,
        1.25,
        "Hello there.",
    )
    assert first["avg_logprob"] == pytest.approx(-0.2)
    assert first["no_speech_prob"] == pytest.approx(0.01)
    assert (first["tokens"], first["compression_ratio"], first["temperature"]) == (
        [2425, 456, 13],
        0.75,
        0.0,
    )
    assert list(first) == [  # OpenAI's order
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
    ]
    # no placeholders: what the engine did not report is left out, never written as 0 or []
    second = out["segments"][1]
    assert second["id"] == 1
    assert set(second) == {"id", "start", "end", "text", "avg_logprob", "no_speech_prob"}
    assert out["words"] == [
        {"start": 0.0, "end": 0.5, "word": " Hello", "probability": 0.9},
        {"start": 0.6, "end": 1.25, "word": " there.", "probability": 0.8},
        {"start": 3600.0, "end": 3600.6, "word": " नमस्ते", "probability": 0.7},
        {"start": 3600.7, "end": 3601.5, "word": " दुनिया।", "probability": 0.6},
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


# subtitle cues cut to size


def _timed(text: str, start: float, seconds_per_char: float = 0.06) -> tuple[Word, ...]:
    """Whisper-like words (leading space, punctuation attached), spoken one after another."""
    words, at = [], start
    for token in text.split():
        end = at + seconds_per_char * (len(token) + 1)
        words.append(Word(at, end, f" {token}", 0.9))
        at = end
    return tuple(words)


def _one_segment(text: str, seconds_per_char: float = 0.06) -> Transcript:
    words = _timed(text, 0.5, seconds_per_char)
    segment = Segment(0, words[0].start, words[-1].end, text, words=words)
    return Transcript(text, "en", words[-1].end + 0.5, (segment,))


def check_cue_sizes(found: list[Cue], transcript: Transcript) -> None:
    """Each cue within the limits, in order, within the recording; no word lost or added."""
    assert found
    previous = 0.0
    for cue in found:
        assert len(cue.lines) <= MAX_LINES, cue
        assert all(len(line) <= MAX_LINE for line in cue.lines), cue
        assert cue.end - cue.start <= MAX_CUE_SECONDS + 1e-6, cue
        assert previous <= cue.start < cue.end <= transcript.duration + 1e-6, cue
        previous = cue.end
    said = " ".join(" ".join(cue.lines) for cue in found).split()
    assert said == transcript.text.split()


FOURTEEN_SENTENCES = (
    "Yes. I think so. Come in, please. The kettle is on. Sit down by the fire. "
    "How was the journey? Long and cold. The roads were bad after the rain. "
    "Did you eat? Not since noon. Then have some bread. Thank you, you are kind. "
    "It is nothing. Tell me the news from town."
)


def test_a_29_second_segment_of_14_sentences_becomes_subtitle_cues() -> None:
    """What was seen: one cue of 29 s holding 14 sentences."""
    transcript = _one_segment(FOURTEEN_SENTENCES, 0.11)
    assert transcript.segments[0].end - transcript.segments[0].start > 28
    found = cues(transcript)
    check_cue_sizes(found, transcript)
    assert len(found) >= 8
    # every cue ends where a sentence ends: each of these sentences fits one cue
    assert all(cue.lines[-1][-1] in ".?" for cue in found)
    srt = to_srt(transcript)
    assert srt.count(" --> ") == len(found)
    assert "2\n00:00:" in srt


def test_a_long_sentence_is_cut_at_a_clause_mark_then_between_words() -> None:
    text = (
        "When the long winter came to an end and the snow melted, "
        "the people of the valley walked up to the old stone bridge and stood there together "
        "watching the river carry the last of the ice down towards the sea"
    )
    transcript = _one_segment(text)
    found = cues(transcript)
    check_cue_sizes(found, transcript)
    assert found[0].lines[-1].endswith("melted,")  # the clause mark, not mid-phrase
    assert len(found) >= 3


def test_lines_are_balanced_and_cut_between_words() -> None:
    transcript = _one_segment("He was not an ill-disposed young man, if a little cold.")
    (cue,) = cues(transcript)
    assert cue.lines == ("He was not an ill-disposed young man,", "if a little cold.")


def test_an_abbreviation_does_not_end_a_cue() -> None:
    transcript = _one_segment("And Mr. John Dashwood had then leisure to consider it.")
    found = cues(transcript)
    assert not any(cue.lines[-1].endswith("Mr.") for cue in found)


def test_a_short_cue_stays_up_a_second_when_there_is_room() -> None:
    yes = Segment(0, 1.0, 1.3, "Yes.", words=(Word(1.0, 1.3, " Yes.", 0.9),))
    later = Segment(1, 1.8, 2.6, "Go on.", words=_timed("Go on.", 1.8, 0.1))
    short, then = cues(Transcript("Yes. Go on.", "en", 2.7, (yes, later)))
    assert (short.start, short.end) == (1.0, 1.8)  # up to the next cue, not past it
    assert then.end == pytest.approx(2.7)  # not past the end of the recording
    alone = cues(Transcript("Yes.", "en", 5.0, (yes,)))
    assert alone[0].end == pytest.approx(1.0 + MIN_CUE_SECONDS)


def test_a_pause_ends_a_cue() -> None:
    first = Segment(0, 0.0, 1.5, "five five", words=_timed("five five", 0.0, 0.15))
    second = Segment(1, 3.0, 4.5, "eight of spades", words=_timed("eight of spades", 3.0, 0.1))
    found = cues(Transcript("five five eight of spades", "en", 5.0, (first, second)))
    assert [cue.text for cue in found] == ["five five", "eight of spades"]


def test_segments_without_word_times_are_cut_by_characters() -> None:
    """openai-whisper without word timestamps, or a transcript from elsewhere."""
    text = FOURTEEN_SENTENCES
    transcript = Transcript(text, "en", 30.0, (Segment(0, 0.0, 29.0, text),))
    found = cues(transcript)
    check_cue_sizes(found, transcript)
    assert found[0].start == 0.0 and found[-1].end == pytest.approx(29.0)


def test_a_word_longer_than_a_line_still_gets_its_cue() -> None:
    url = "https://example.org/" + "a" * 60
    transcript = _one_segment(f"See {url} for more.")
    found = cues(transcript)
    assert " ".join(" ".join(c.lines) for c in found).split() == transcript.text.split()


def test_odd_word_times_still_give_ordered_non_empty_cues() -> None:
    """Word times that overlap, stand still or go back (as a re-decoded stretch can give)."""
    words = (
        Word(1.0, 1.0, " one.", 0.9),
        Word(0.8, 1.2, " two.", 0.9),
        Word(1.2, 1.2, " three.", 0.9),
        Word(1.1, 1.4, " four", 0.9),
    )
    segment = Segment(0, 0.8, 1.4, "one. two. three. four", words=words)
    found = cues(Transcript("one. two. three. four", "en", 1.4, (segment,)))
    previous = 0.0
    for cue in found:
        assert previous <= cue.start < cue.end
        previous = cue.end
    assert " ".join(c.text for c in found).split() == ["one.", "two.", "three.", "four"]
