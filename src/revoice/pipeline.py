"""audio -> transcript -> (translate) -> speech in the chosen voice. No I/O here.

Every door (web page, HTTP API, CLI) calls this one class. Inputs are validated eagerly, so
errors surface before the first audio chunk; speech is a lazy iterator, so callers can play
the first sentence while the rest is still being made.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from queue import Queue
from typing import Any, Literal, TypeVar

from revoice import custom, effects
from revoice import text as textsplit
from revoice.asr.base import TranscriptStream
from revoice.audio import Audio
from revoice.config import Settings
from revoice.effects import Effects
from revoice.errors import InvalidOption
from revoice.likeness import Likeness, Matcher
from revoice.models import ModelCache
from revoice.types import Segment, SynthesisOptions, Task, TranscribeOptions, Transcript, Voice
from revoice.voices import Catalogue

T = TypeVar("T")
TextMode = Literal["none", "translate", "reply"]
TEXT_MODES: tuple[TextMode, ...] = ("none", "translate", "reply")


@dataclass(frozen=True)
class Conversion:
    """The result of voice to voice: the transcript and the text to say now, the speech as it
    is made. `text` differs from the transcript when a text step (reply, instruction) ran."""

    transcript: Transcript
    voice: Voice
    speech: Iterator[Audio]
    text: str = ""


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
        segments = _prefetched(self.stream.segments) if prefetch else self.stream.segments
        pending = ""
        try:
            for segment in segments:
                self._segments.append(segment)
                yield segment
                pending = f"{pending} {segment.text}".strip()
                ready, pending = textsplit.complete_sentences(pending)
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


def _prefetched(items: Iterator[T]) -> Iterator[T]:
    """`items`, produced by a background thread (so producing overlaps consuming); the
    thread stops at the next item when the consumer stops early."""
    queue: Queue[tuple[str, Any]] = Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                queue.put(("item", item))
                if stop.is_set():
                    break
            queue.put(("end", None))
        except BaseException as exc:
            queue.put(("error", exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    threading.Thread(target=produce, name="revoice-asr", daemon=True).start()
    try:
        while True:
            kind, value = queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()


class Pipeline:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        models: ModelCache | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.models = models or ModelCache(self.settings)
        self.catalogue = catalogue or Catalogue.load(self.settings.voices, self.settings)
        self._matcher: Matcher | None = None

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
        self.catalogue = Catalogue.load(self.settings.voices, self.settings)

    def _builtin(self) -> dict[str, Voice]:
        return {v.id: v for v in self.catalogue if v.source == "builtin"}

    def add_voice(
        self, voice_id: str, spec: Mapping[str, Any], *, overwrite: bool = False
    ) -> Voice:
        """Create (or, with `overwrite`, replace) a custom voice in the user's voices file.

        `spec` is what a `[voices.<id>]` table holds, e.g. `{"voice": "english-female",
        "pitch": -2, "formant": 0.95}` or `{"engine": "kokoro", "blend": {...}}`. A change the
        whole catalogue refuses is undone: the file is left as it was.
        """
        path = self.settings.voices
        before = path.read_bytes() if path.is_file() else None
        voice = custom.add_voice(path, voice_id, spec, self._builtin(), overwrite=overwrite)
        try:
            self.reload_voices()
        except Exception:
            if before is None:
                path.unlink(missing_ok=True)
            else:
                custom.restore(path, before)
            self.reload_voices()
            raise
        return voice

    def remove_voice(self, voice_id: str) -> None:
        custom.remove_voice(self.settings.voices, voice_id)
        self.reload_voices()

    def like_me(
        self, recording: Audio, voice_id: str | None = None, *, overwrite: bool = False
    ) -> tuple[Likeness, Voice | None]:
        """The shipped voice nearest to the recording, pitch-matched; saved when given an id."""
        if self._matcher is None:
            self._matcher = Matcher(self)
        likeness = self._matcher.match(recording)
        saved = None
        if voice_id:
            saved = self.add_voice(
                voice_id,
                overwrite=overwrite,
                spec={
                    "voice": likeness.voice,
                    "pitch": likeness.pitch,
                    "description": f"sounds like you: {likeness.voice}, pitch "
                    f"{likeness.pitch:+.1f} st",
                },
            )
        return likeness, saved

    def language_for(
        self, audio: Audio, voice: Voice, language: str | None, model: str | None = None
    ) -> str | None:
        """The language to transcribe in: the caller's, else a hint from the voice.

        Whisper's language ID is unreliable on Hindi, so with a non-English voice the voice's
        language is forced unless the speech is clearly English.
        """
        if language or voice.language == "en":
            return language
        detected, probability = self.models.asr(model).detect_language(audio)
        if detected == "en" and probability >= 0.5:
            return "en"
        return voice.language

    def text_step(self, text: str, mode: TextMode, instruction: str | None = None) -> str:
        """What to say for a transcript: itself, a reply to it, or it rewritten as instructed.

        `translate` happens earlier, in speech recognition (Whisper's translate task).
        """
        instruction = (instruction or "").strip() or None
        if not text or (mode != "reply" and instruction is None):
            return text
        generator = self.models.text()
        return generator.generate(text, instruction=None if mode == "reply" else instruction)

    def _recognition(
        self, audio: Audio, voice: Voice, language: str | None, task: Task, model: str | None
    ) -> TranscribeOptions:
        """How to transcribe a recording that will be spoken in `voice`; fails on a broken
        voice engine before any transcribing."""
        if task == "transcribe":
            language = self.language_for(audio, voice, language, model)
        self.models.tts(voice.engine)
        return TranscribeOptions(language=language, task=task)

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
        parts of the recording are still being transcribed. Errors in the inputs (voice,
        engine, language) are raised here, before any event."""
        chosen = self.voice(voice)
        options = self._recognition(audio, chosen, language, task, model)
        stream = self.transcribe_stream(audio, options, model)
        synth = SynthesisOptions(speed=speed)
        return LiveConversion(stream, lambda text: self.speak(text, chosen, synth))

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
        if mode not in TEXT_MODES:
            raise InvalidOption(f"mode must be one of: {', '.join(TEXT_MODES)}", "mode")
        if mode == "translate":
            task = "translate"
        chosen = self.voice(voice)
        if mode == "reply" or (instruction or "").strip():
            self.models.text()  # fail on a missing text model before transcribing
        synth_options = SynthesisOptions(speed=speed)
        options = self._recognition(audio, chosen, language, task, model)
        transcript = self.transcribe(audio, options, model)
        text = self.text_step(transcript.text, mode, instruction)
        speech = self.speak(text, chosen, synth_options) if text.strip() else iter(())
        return Conversion(transcript, chosen, speech, text)
