"""Shared test helpers: text normalisation and error rates (via jiwer), human clips."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import jiwer

from revoice import codecs
from revoice.audio import Audio

DATA = Path(__file__).parent / "data"
HUMAN = DATA / "human"

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SPOKEN = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint"}


def _number(digits: str) -> str:
    """Numbers as words: up to 99 as a cardinal, longer strings digit by digit (tidigits)."""
    value = int(digits)
    if len(digits) > 2:
        return " ".join(_ONES[int(d)] for d in digits)
    if value < 20:
        return _ONES[value]
    tens, ones = divmod(value, 10)
    return _TENS[tens] + ("" if ones == 0 else f" {_ONES[ones]}")


def normalize(text: str) -> str:
    """Lower case, words only: hyphens split words, digits become words, titles spelled out."""
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 29,340 and 29340 are one number
    text = re.sub(r"\d+", lambda m: f" {_number(m.group())} ", text)
    text = re.sub(r"[-–—]", " ", text)
    text = re.sub(r"[^\w\s']", " ", text)
    words = [_SPOKEN.get(w, w) for w in text.split()]
    return " ".join(words)


def wer(references: list[str], hypotheses: list[str]) -> float:
    """Corpus word error rate after normalisation."""
    return float(jiwer.wer([normalize(r) for r in references], [normalize(h) for h in hypotheses]))


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate, ignoring punctuation and spacing (for Devanagari)."""

    def chars(s: str) -> str:
        return re.sub(r"[\s\W]", "", unicodedata.normalize("NFC", s))

    return float(jiwer.cer(chars(reference), chars(hypothesis)))


@dataclass(frozen=True)
class Clip:
    name: str
    audio: Audio
    transcript: str


def human_clips() -> list[Clip]:
    """The 13 human recordings with their reference transcripts (see data/human/README.md)."""
    clips = []
    with (HUMAN / "transcripts.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            path = HUMAN / row["file"]
            audio = (
                codecs.decode_pcm(path.read_bytes(), 16000)
                if path.suffix == ".raw"
                else codecs.decode(path)
            )
            clips.append(Clip(row["file"], audio, row["transcript"]))
    return clips
