"""Stable partial transcripts of a turn that is still being spoken (LocalAgreement-2).

The growing speech is transcribed again every so often; a word is sent only once two
successive hypotheses agree on it and on everything before it, so a word once sent is never
taken back (Machacek et al., "Turning Whisper into Real-Time Transcription System", 2023;
ufal/whisper_streaming). Each pass decodes only a window: once stable words end a sentence
(or the window grows past its bound) the window starts after them, so the cost of a turn stays
linear in its length. The end of the turn decodes the last window once more and keeps every
word of it: the stable words sent so far begin the final transcript unchanged.

This class holds no engine: the caller decodes `window()` (with word timestamps) however it
likes, and hands the transcript back.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from revoice import text as textsplit
from revoice.audio import Audio
from revoice.types import Transcript, Word

RATE = 16000
_TERMINAL = re.compile(r"[.!?…।॥]+[\"'”’)\]]*$")
_OVERLAP_WORDS = 5


def _key(word: Word) -> str:
    return re.sub(r"[^\w']", "", word.word.lower())


def words_of(transcript: Transcript) -> list[Word]:
    """The words of a transcript in order; a segment without word timings gets its words
    spread evenly over it."""
    words: list[Word] = []
    for segment in transcript.segments:
        if segment.words:
            words.extend(w for w in segment.words if w.word.strip())
            continue
        tokens = segment.text.split()
        step = (segment.end - segment.start) / max(len(tokens), 1)
        for i, token in enumerate(tokens):
            start = segment.start + i * step
            words.append(Word(start, start + step, f" {token}", 0.0))
    return words


def _common(old: list[Word], new: list[Word]) -> list[Word]:
    """The words of `new` that begin both lists alike."""
    agreed: list[Word] = []
    for a, b in zip(old, new, strict=False):
        if _key(a) != _key(b):
            break
        agreed.append(b)
    return agreed


def _text(words: list[Word]) -> str:
    """Words as Whisper spells them: each with its leading space, but a piece that goes on
    the word before ("ill" + "-disposed")."""
    return "".join(w.word for w in words)


_SENTENCE_END = re.compile(r"[.!?…।॥]+[\"'”’)\]]*(?=\s|$)")


def sentences_end(text: str, start: int = 0) -> int:
    """Where the last whole sentence of `text[start:]` ends (an index into `text`), or `start`
    when no sentence after it is complete yet ("Dr." and "3.5" end none)."""
    for match in reversed(list(_SENTENCE_END.finditer(text, start))):
        head = text[start : match.end()].strip()
        if head and textsplit.split_sentences(f"{head} Next")[-1] == "Next":
            return match.end()
    return start


class LiveTranscript:
    """The stable text of one turn so far, grown from successive hypotheses."""

    def __init__(self, window_seconds: float = 12.0) -> None:
        self.window_seconds = window_seconds
        self._stable: list[Word] = []
        self._pending: list[Word] = []  # the last hypothesis, after the stable words
        self._offset = 0  # sample (16 kHz, from the turn's start) where the window begins
        self._sent = False

    @property
    def text(self) -> str:
        """Every stable word, as one string."""
        return _text(self._stable).strip()

    @property
    def offset(self) -> int:
        return self._offset

    @property
    def heard_until(self) -> float:
        """Where the last stable word ends (seconds into the turn; 0 before any)."""
        return self._stable[-1].end if self._stable else 0.0

    def window(self, samples: np.ndarray) -> tuple[int, Audio]:
        """(where it starts, the audio) of the part of the turn to decode next."""
        return self._offset, Audio(samples[self._offset :], RATE)

    def update(self, offset: int, hypothesis: Transcript) -> str:
        """Take a hypothesis of the window that began at `offset`; the newly stable text (a
        delta to append to what was sent before, maybe empty)."""
        words = self._fresh(offset, hypothesis)
        skip, agreed = 0, _common(self._pending, words)
        if not agreed and not self._stable:
            # Whisper often hears a turn's first word in one pass and not the next ("And Mr.
            # John" / "Mr. John"): agree on what follows it, or nothing is stable until the end
            for old, new in ((self._pending[1:], words), (self._pending, words[1:])):
                agreed = _common(old, new)
                if agreed:
                    skip = len(words) - len(new)
                    break
        self._pending = words[skip + len(agreed) :]
        delta = self._commit(agreed)
        self._slide(offset + round(hypothesis.duration * RATE))
        return delta

    def finish(self, offset: int, hypothesis: Transcript) -> str:
        """The last hypothesis, at the end of the turn: all of it becomes stable."""
        delta = self._commit(self._fresh(offset, hypothesis))
        self._pending = []
        return delta

    def _commit(self, words: list[Word]) -> str:
        if not words:
            return ""
        self._stable.extend(words)
        delta = _text(words)
        if not self._sent:
            delta = delta.lstrip()
            self._sent = True
        return delta

    def _fresh(self, offset: int, hypothesis: Transcript) -> list[Word]:
        """The hypothesis's words in turn time, without those already stable."""
        shift = offset / RATE
        words = [replace(w, start=w.start + shift, end=w.end + shift) for w in words_of(hypothesis)]
        if not self._stable:
            return words
        last = self._stable[-1].end
        words = [w for w in words if w.start > last - 0.1]
        if words and abs(words[0].start - last) < 1.0:
            # the window may begin inside stable words: drop a repeated n-gram at its head
            for n in range(min(_OVERLAP_WORDS, len(self._stable), len(words)), 0, -1):
                tail = [_key(w) for w in self._stable[-n:]]
                if tail == [_key(w) for w in words[:n]]:
                    return words[n:]
        return words

    def _ends_sentence(self, index: int) -> bool:
        """Whether stable word `index` ends a sentence ("them." does, "Mr." does not)."""
        if not _TERMINAL.search(self._stable[index].word.strip()):
            return False
        text = _text(self._stable[max(0, index - 3) : index + 1]).strip()
        return textsplit.split_sentences(f"{text} Next")[-1] == "Next"

    def _slide(self, end: int) -> None:
        """Start the next window after stable speech once the window is long (at a sentence
        end when there is one), so no pass decodes more than `window_seconds`."""
        length = (end - self._offset) / RATE
        if length < self.window_seconds / 2 or not self._stable:
            return
        ends = [
            i
            for i, w in enumerate(self._stable)
            if w.end * RATE > self._offset and self._ends_sentence(i)
        ]
        if ends:
            cut = ends[-1]
        elif length >= self.window_seconds * 0.8:
            cut = len(self._stable) - 1
        else:
            return
        after = self._stable[cut].end
        following = self._stable[cut + 1 :] or self._pending
        if following:  # between the two words: their timings are only roughly right
            after = (after + following[0].start) / 2
        self._offset = max(self._offset, round(after * RATE))
