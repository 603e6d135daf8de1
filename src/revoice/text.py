"""Splitting text into pieces a TTS model can say: sentences, then clauses, then words.

Shared by every engine so that any text, however long, is spoken completely.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e no fig approx dept est inc ltd co mt capt gen lt "
    "col sgt rev hon".split()
)
# A sentence ends at . ! ? … or the Devanagari danda (। ॥), possibly followed by closing quotes
# or brackets, then whitespace.
_END = re.compile(r"([.!?…।॥]+[\"'”’)\]]*)(\s+)")
_CLAUSE = re.compile(r"(?<=[,;:—–])\s+|\s+(?=[—–]\s)")
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff]")


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Normalise Unicode (NFC), drop control characters and lone surrogates (which no encoder
    can write), collapse runs of spaces."""
    text = _SURROGATE.sub("", text)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


def script_language(text: str) -> str | None:
    """'hi' when the text is written in Devanagari, None when the script says nothing."""
    return "hi" if _DEVANAGARI.search(text) else None


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, in order, each stripped; paragraph breaks always end a sentence."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*[-*•])", clean(text)):
        block = block.replace("\n", " ").strip()
        start = 0
        for match in _END.finditer(block):
            end = match.end(1)
            if _is_abbreviation(block[start:end]):
                continue
            piece = block[start:end].strip()
            if piece:
                sentences.append(piece)
            start = match.end()
        rest = block[start:].strip()
        if rest:
            sentences.append(rest)
    return sentences


def _is_abbreviation(candidate: str) -> bool:
    if not candidate.endswith("."):
        return False
    last = candidate.rstrip(".").rsplit(None, 1)[-1] if candidate.strip(". ") else ""
    word = last.lower().strip("\"'“‘(")
    # single initials ("J. K. Rowling") and known abbreviations do not end a sentence
    return (len(word) == 1 and word.isalpha() and last.isupper()) or word in _ABBREVIATIONS


def split_to_fit(sentence: str, fits: Callable[[str], bool]) -> list[str]:
    """Split one sentence into pieces that each `fits`, at clause boundaries first, then words.

    A single word that still does not fit is cut by characters, so no input is ever dropped.
    """
    if len(sentence) <= 1 or fits(sentence):  # one character cannot be cut any further
        return [sentence]
    for splitter in (_CLAUSE.split, str.split):
        parts = [p for p in splitter(sentence) if p]
        if len(parts) > 1:
            return _pack(parts, fits)
    half = max(1, len(sentence) // 2)
    return split_to_fit(sentence[:half], fits) + split_to_fit(sentence[half:], fits)


def _pack(parts: list[str], fits: Callable[[str], bool]) -> list[str]:
    """Greedily join consecutive parts while the joined text still fits."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current} {part}" if current else part
        if fits(candidate):
            current = candidate
            continue
        if current:
            pieces.append(current)
        if fits(part):
            current = part
        else:
            pieces.extend(split_to_fit(part, fits))
            current = ""
    if current:
        pieces.append(current)
    return pieces


def pieces(text: str, fits: Callable[[str], bool]) -> Iterator[str]:
    """Every piece of `text` to synthesise, in order: sentences, each split until it fits."""
    for sentence in split_sentences(text):
        if any(ch.isalnum() for ch in sentence):
            yield from split_to_fit(sentence, fits)


_TERMINAL = re.compile(r"[.!?…।॥]+[\"'”’)\]]*$")


def complete_sentences(text: str) -> tuple[str, str]:
    """(the complete sentences of `text`, what follows them): for speaking a transcript as it
    grows, a sentence at a time, without cutting one in the middle."""
    sentences = split_sentences(text)
    if sentences and not _TERMINAL.search(sentences[-1]):
        return " ".join(sentences[:-1]), sentences[-1]
    return " ".join(sentences), ""


def take_sentences(buffer: str) -> tuple[str, str]:
    """(the sentences of a growing `buffer` that are surely complete, the rest to keep adding
    to): for speaking text as it streams in. A sentence counts as complete once something
    follows its end, so "It costs 3." waits for a possible "5 dollars"."""
    if not buffer.strip():
        return "", buffer
    if buffer[-1].isspace():
        ready, rest = complete_sentences(buffer)
        return ready, f"{rest} " if rest else ""
    sentences = split_sentences(buffer)
    return " ".join(sentences[:-1]), sentences[-1]
