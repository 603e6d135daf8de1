"""audio -> transcript -> (translate) -> speech in the chosen voice. No I/O here.

Every door (web page, HTTP API, CLI) calls this one class. Inputs are validated eagerly, so
errors surface before the first audio chunk; speech is a lazy iterator, so callers can play
the first sentence while the rest is still being made.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from queue import Queue
from typing import Any, Literal, TypeVar, overload

from revoice import effects
from revoice import text as textsplit
from revoice.asr.base import TranscriptStream, settle_language
from revoice.audio import Audio
from revoice.config import Settings
from revoice.effects import Effects
from revoice.errors import InvalidOption, RevoiceError
from revoice.models import ModelCache
from revoice.types import Segment, SynthesisOptions, Task, TranscribeOptions, Transcript, Voice
from revoice.voices import Catalogue

T = TypeVar("T")
log = logging.getLogger(__name__)
TextMode = Literal["none", "translate", "reply"]
TEXT_MODES: tuple[TextMode, ...] = ("none", "translate", "reply")


@dataclass(frozen=True)
class ConversionOptions:
    """What a voice-to-voice call asks for, the same from every door (page, API, CLI).

    `task` says whether Whisper transcribes or translates to English (the one place
    "translate" is spelled: `mode="translate"` is read as `task="translate"`); `mode` is the
    text step, none (say what was heard) or reply (say an answer to it); `instruction`
    rewrites what is said ("summarise", "make it formal")."""

    voice: str | Voice | None = None
    language: str | None = None
    task: Task = "transcribe"
    mode: TextMode = "none"
    instruction: str | None = None
    speed: float | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in TEXT_MODES:
            raise InvalidOption(f"mode must be one of: {', '.join(TEXT_MODES)}", "mode")
        TranscribeOptions(task=self.task)  # checks the task
        if self.mode == "translate":
            object.__setattr__(self, "task", "translate")
            object.__setattr__(self, "mode", "none")
        object.__setattr__(self, "instruction", (self.instruction or "").strip() or None)
        SynthesisOptions(speed=self.speed)  # checks the speed

    @property
    def text_step(self) -> bool:
        """Whether a text model writes what is said (a reply, or an instruction applied)."""
        return self.mode == "reply" or self.instruction is not None

    @property
    def as_heard(self) -> bool:
        """Whether it can be said while it is heard: with no text step, each sentence is
        spoken as soon as it is transcribed."""
        return not self.text_step


class Conversion:
    """The result of voice to voice: the transcript, the text to say, and the speech as it is
    made. `text` differs from the transcript when a text step (reply, instruction) ran.

    The text step runs on first use of `text` or `speech` (once, whichever thread asks), so a
    door can show the transcript while the text model thinks; speech is a lazy iterator."""

    def __init__(
        self,
        transcript: Transcript,
        voice: Voice,
        write: Callable[[str], str],
        speak: Callable[[str], Iterator[Audio]],
    ) -> None:
        self.transcript = transcript
        self.voice = voice
        self._write = write
        self._speak = speak
        self._text: str | None = None
        self._lock = threading.Lock()
        self.speech: Iterator[Audio] = self._speech()

    @property
    def text(self) -> str:
        """What is said: the transcript, or what the text step wrote for it (run now, the
        first time it is asked for)."""
        with self._lock:
            if self._text is None:
                self._text = self._write(self.transcript.text)
            return self._text

    def _speech(self) -> Iterator[Audio]:
        text = self.text
        if text.strip():
            yield from self._speak(text)

    def parts(self) -> Iterator[Segment | Iterator[Audio]]:
        """The transcript's segments, then the speech (as LiveConversion.parts gives them)."""
        yield from self.transcript.segments
        yield self.speech

    def events(self) -> Iterator[Segment | Audio]:
        for part in self.parts():
            if isinstance(part, Segment):
                yield part
            else:
                yield from part


class LiveConversion:
    """Voice to voice as it happens: transcript segments and speech chunks, interleaved.

    Speech recognition runs in a background thread while the sentences heard so far are
    spoken, so the first words play while the rest of the recording is still being decoded.
    Iterate `events()` once; `transcript` is complete after that.
    """

    def __init__(self, stream: TranscriptStream, speak: Callable[[str], Iterator[Audio]]) -> None:
        self.stream = stream
        self._speak = speak
        self._segments: list[Segment] = []

    @property
    def text(self) -> str:
        """What is said: the words heard (no text step runs here)."""
        return self.transcript.text

    @property
    def transcript(self) -> Transcript:
        """What was heard so far (all of it once `events()` is exhausted)."""
        segments = tuple(self._segments)
        text = " ".join(s.text for s in segments if s.text).strip()
        return Transcript(
            text,
            self.stream.language,
            self.stream.duration,
            segments,
            self.stream.language_probability,
            self.stream.task,
        )

    def parts(self, prefetch: bool = False) -> Iterator[Segment | Iterator[Audio]]:
        """Each segment as it is decoded, then the speech of the sentences it completed, as a
        lazy iterator of chunks: the caller runs recognition (`next` on this) and synthesis
        (iterating a speech part, fully, before the next `next`) where it likes.
        `prefetch` decodes in a background thread, overlapping the two."""
        ahead = _Prefetched(self.stream.segments) if prefetch else None
        segments = ahead if ahead is not None else self.stream.segments
        pending = ""
        try:
            for segment in segments:
                self._segments.append(segment)
                yield segment
                pending = f"{pending} {segment.text}".strip()
                ready, pending = textsplit.complete_sentences(pending)
                if pending and ahead is not None and ahead.waiting(NEXT_SEGMENT_GRACE):
                    # a segment ends at a pause, and Whisper is at work on the next stretch
                    # of speech: what it heard is spoken now, not after that stretch
                    ready, pending = f"{ready} {pending}".strip(), ""
                if ready:
                    yield self._speak(ready)
            if pending:
                yield self._speak(pending)
        finally:
            close = getattr(segments, "close", None)
            if close is not None:
                close()  # a consumer that stops early stops recognition too

    def events(self) -> Iterator[Segment | Audio]:
        """Segments and speech chunks in order, recognition overlapping synthesis."""
        for part in self.parts(prefetch=True):
            if isinstance(part, Segment):
                yield part
            else:
                yield from part


class _Prefetched(Iterator[T]):
    """`items`, produced by a background thread (so producing overlaps consuming); the
    thread stops at the next item when the consumer stops early (`close`)."""

    def __init__(self, items: Iterator[T]) -> None:
        self._queue: Queue[tuple[str, Any]] = Queue()
        self._stop = threading.Event()
        self._done = False
        threading.Thread(
            target=self._produce, args=(items,), name="revoice-asr", daemon=True
        ).start()

    def _produce(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                self._queue.put(("item", item))
                if self._stop.is_set():
                    break
            self._queue.put(("end", None))
        except BaseException as exc:
            self._queue.put(("error", exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == "end":
            self._done = True
            raise StopIteration
        if kind == "error":
            self._done = True
            raise value
        item: T = value
        return item

    def waiting(self, grace: float) -> bool:
        """Whether the next item is still being made `grace` seconds from now."""
        if not self._queue.empty():
            return False
        time.sleep(grace)
        return self._queue.empty()

    def close(self) -> None:
        self._stop.set()


#: at a segment's end, how long the next one may take to come before the words heard so far
#: are spoken (a batched chunk's segments come together; the next chunk takes longer)
NEXT_SEGMENT_GRACE = 0.05


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        *,
        models: ModelCache | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.settings = settings
        self.models = models or ModelCache(self.settings)
        self._catalogue_lock = threading.Lock()
        self._voices_stamp = _stamp(self.settings.voices)
        self._catalogue = catalogue or Catalogue.load(self.settings.voices, self.settings)

    @property
    def catalogue(self) -> Catalogue:
        """The voices, read again whenever the voices file changed since they were read (a
        voice saved by the CLI, another server or a hand edit is seen without a restart). A
        file that no longer loads keeps the voices read before, with a warning in the log."""
        stamp = _stamp(self.settings.voices)
        if stamp != self._voices_stamp:
            with self._catalogue_lock:
                if stamp != self._voices_stamp:
                    try:
                        self._catalogue = Catalogue.load(self.settings.voices, self.settings)
                    except RevoiceError as exc:
                        log.warning("%s; keeping the voices read before", exc)
                    self._voices_stamp = stamp
        return self._catalogue

    @catalogue.setter
    def catalogue(self, catalogue: Catalogue) -> None:
        with self._catalogue_lock:
            self._catalogue = catalogue
            self._voices_stamp = _stamp(self.settings.voices)

    def voice(self, voice: str | Voice | None) -> Voice:
        if isinstance(voice, Voice):
            return voice
        return self.catalogue.get(voice or self.settings.default_voice)

    def transcribe(
        self, audio: Audio, options: TranscribeOptions | None = None, model: str | None = None
    ) -> Transcript:
        """The whole recording as text (empty text when there is no speech)."""
        return self.models.asr(model).transcribe(audio, options or TranscribeOptions())

    def transcribe_stream(
        self, audio: Audio, options: TranscribeOptions | None = None, model: str | None = None
    ) -> TranscriptStream:
        """Transcription whose segments arrive as they are decoded."""
        return self.models.asr(model).stream(audio, options or TranscribeOptions())

    def speak(
        self, text: str, voice: str | Voice | None = None, options: SynthesisOptions | None = None
    ) -> Iterator[Audio]:
        """Speech for all of `text`, one chunk per sentence (or clause of a long sentence)."""
        chosen = self.voice(voice)
        engine = self.models.tts(chosen.engine)
        cleaned = textsplit.clean(text)
        chunks = engine.synthesize(cleaned, chosen, options or SynthesisOptions())
        controls = Effects(pitch=chosen.pitch, formant=chosen.formant, volume=chosen.volume)
        return effects.apply_all(chunks, controls)

    def reload_voices(self) -> None:
        """Read the voice catalogue again (after the user's voices file changed)."""
        stamp = _stamp(self.settings.voices)  # before reading: a later change is read again
        catalogue = Catalogue.load(self.settings.voices, self.settings)
        with self._catalogue_lock:
            self._catalogue, self._voices_stamp = catalogue, stamp

    def language_for(
        self, audio: Audio, voice: Voice, language: str | None, model: str | None = None
    ) -> str | None:
        """The language to transcribe in: the caller's, else Whisper's guess settled by the
        voice's language (`asr.base.settle_language`). Conversions pass the hint on to the
        engine instead (`_recognition`), which settles it in its one pass."""
        if language or voice.language == "en":
            return language
        detected, probability = self.models.asr(model).detect_language(audio)
        return settle_language(detected, probability, voice.language)

    def text_step(self, text: str, mode: TextMode, instruction: str | None = None) -> str:
        """What to say for a transcript: itself, a reply to it, or it rewritten as instructed.

        `translate` happens earlier, in speech recognition (Whisper's translate task).
        """
        instruction = (instruction or "").strip() or None
        if not text or (mode != "reply" and instruction is None):
            return text
        generator = self.models.text()
        return generator.generate(text, instruction=None if mode == "reply" else instruction)

    def _recognition(self, voice: Voice, language: str | None, task: Task) -> TranscribeOptions:
        """How to transcribe a recording that will be spoken in `voice`; fails on a broken
        voice engine before any transcribing."""
        hint = voice.language if task == "transcribe" and not language else None
        self.models.tts(voice.engine)
        return TranscribeOptions(language=language, task=task, hint=hint)

    @overload
    def conversion(
        self, audio: Audio, options: ConversionOptions, *, streamed: Literal[False]
    ) -> Conversion: ...

    @overload
    def conversion(
        self, audio: Audio, options: ConversionOptions, *, streamed: bool = True
    ) -> Conversion | LiveConversion: ...

    def conversion(
        self, audio: Audio, options: ConversionOptions, *, streamed: bool = True
    ) -> Conversion | LiveConversion:
        """Voice to voice, the one way every door asks for it. `streamed`: the door plays or
        sends speech while the recording is still transcribed (the page, SSE); then, when the
        options allow it (no text step), each sentence is said as soon as it is heard (a
        LiveConversion). Otherwise the transcript is complete on return, the text step runs
        when its text or speech is first asked for, and speech streams lazily (a
        Conversion). Both give `parts()`, `events()`, `transcript` and `text`. Errors in the
        inputs (voice, engine, language, a missing text model) are raised here, before any
        work."""
        chosen = self.voice(options.voice)
        if options.text_step:
            self.models.text()  # fail on a missing text model before transcribing
        recognition = self._recognition(chosen, options.language, options.task)
        synth = SynthesisOptions(speed=options.speed)
        if streamed and options.as_heard:
            stream = self.transcribe_stream(audio, recognition, options.model)
            return LiveConversion(stream, lambda text: self.speak(text, chosen, synth))
        transcript = self.transcribe(audio, recognition, options.model)
        return Conversion(
            transcript,
            chosen,
            lambda heard: self.text_step(heard, options.mode, options.instruction),
            lambda text: self.speak(text, chosen, synth),
        )

    def convert_live(
        self,
        audio: Audio,
        voice: str | Voice | None = None,
        *,
        language: str | None = None,
        task: Task = "transcribe",
        speed: float | None = None,
        model: str | None = None,
    ) -> LiveConversion:
        """Voice to voice with no text step, as it happens: sentences are spoken while later
        parts of the recording are still being transcribed."""
        options = ConversionOptions(voice, language, task, speed=speed, model=model)
        live = self.conversion(audio, options)
        assert isinstance(live, LiveConversion)
        return live

    def convert(
        self,
        audio: Audio,
        voice: str | Voice | None = None,
        *,
        language: str | None = None,
        task: Task = "transcribe",
        speed: float | None = None,
        model: str | None = None,
        mode: TextMode = "none",
        instruction: str | None = None,
    ) -> Conversion:
        """Voice to voice. The transcript is complete on return; speech streams lazily.

        `mode`: none (say what was said), translate (say it in English), reply (say an answer
        to it); `instruction` ("summarise", "make it formal") rewrites what is said.
        """
        options = ConversionOptions(voice, language, task, mode, instruction, speed, model)
        return self.conversion(audio, options, streamed=False)


def _stamp(path: os.PathLike[str] | str) -> tuple[int, int, int] | None:
    """What tells a changed voices file: its inode (an atomic save renames a new file over
    it), size and modification time; None when there is no file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns
