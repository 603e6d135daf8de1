"""The voice workshop: the user's voices made, replaced and removed, and "sound like me".

It edits the voices file (`custom`) and has the `Pipeline` read its catalogue again; the
Pipeline itself only reads voices and speaks. Every door that edits voices (API, page, CLI)
goes through one of these; "sound like me" hears the candidate voices through the
pipeline's `speak`, so a custom voice's effects are heard as the user would hear them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from revoice import custom
from revoice.audio import Audio
from revoice.errors import InvalidOption, UnknownVoice
from revoice.likeness import CANDIDATES, Likeness, Matcher
from revoice.pipeline import Pipeline
from revoice.types import Voice
from revoice.voices import OPENAI_VOICES


class Workshop:
    """Edits the voices of one pipeline's catalogue; safe to share between threads."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._matcher: Matcher | None = None
        self._lock = threading.Lock()

    def _builtin(self) -> dict[str, Voice]:
        return {v.id: v for v in self.pipeline.catalogue if v.source == "builtin"}

    def add_voice(
        self, voice_id: str, spec: Mapping[str, Any], *, overwrite: bool = False
    ) -> Voice:
        """Create (or, with `overwrite`, replace) a custom voice in the user's voices file.

        `spec` is what a `[voices.<id>]` table holds, e.g. `{"voice": "english-female",
        "pitch": -2, "formant": 0.95}` or `{"engine": "kokoro", "blend": {...}}`. A change the
        whole catalogue refuses is undone: the file is left as it was.
        """
        pipeline = self.pipeline
        path = pipeline.settings.voices
        before = path.read_bytes() if path.is_file() else None
        voice = custom.add_voice(path, voice_id, spec, self._builtin(), overwrite=overwrite)
        try:
            pipeline.reload_voices()
        except Exception:
            if before is None:
                path.unlink(missing_ok=True)
            else:
                custom.restore(path, before)
            pipeline.reload_voices()
            raise
        return voice

    def remove_voice(self, voice_id: str) -> None:
        """Delete one of the user's voices; a shipped voice (or OpenAI name) is refused."""
        pipeline = self.pipeline
        try:
            custom.remove_voice(pipeline.settings.voices, voice_id)
        except UnknownVoice:
            if voice_id in pipeline.catalogue or voice_id.strip().lower() in OPENAI_VOICES:
                raise InvalidOption(
                    f"{voice_id!r} is a built-in voice and cannot be removed; "
                    "only voices you made can",
                    "voice_id",
                ) from None
            raise
        pipeline.reload_voices()

    @property
    def matcher(self) -> Matcher:
        """The "sound like me" matcher, made on first use (it loads the embedder)."""
        with self._lock:
            if self._matcher is None:
                pipeline = self.pipeline
                self._matcher = Matcher(
                    pipeline.speak,
                    pipeline.voice,
                    lambda: [v for v in CANDIDATES if v in pipeline.catalogue],
                    pipeline.settings.home / "cache" / "likeness.json",
                )
            return self._matcher

    def like_me(
        self, recording: Audio, voice_id: str | None = None, *, overwrite: bool = False
    ) -> tuple[Likeness, Voice | None]:
        """The shipped voice nearest to the recording, pitch-matched; saved when given an id."""
        likeness = self.matcher.match(recording)
        saved = None
        if voice_id:
            saved = self.add_voice(voice_id, overwrite=overwrite, spec=likeness.spec())
        return likeness, saved
