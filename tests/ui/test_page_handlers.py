"""The page's callbacks in process: the stages its status line shows, and one error there."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pytest

from revoice.pipeline import Pipeline
from revoice.ui.app import HEARD_TRANSLATED, Handlers
from tests.helpers import HUMAN

CLIP = str(HUMAN / "librivox-0880.wav")


def _status(update: Any) -> str | None:
    return update.get("value") if isinstance(update, dict) and "value" in update else None


class _Replier:
    def generate(self, text: str, instruction: str | None = None) -> str:
        return "An answer to that."


def test_reply_shows_the_transcript_then_thinks_then_speaks(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline.models, "text", lambda: _Replier())
    steps = list(Handlers(pipeline).page_convert(CLIP, "english-female", "en", "reply", 1.0))
    stages = [s for s in (_status(step[0]) for step in steps) if s]
    thinking = stages.index("Thinking of a reply...")
    assert stages.index("Transcribing...") < thinking < stages.index("Speaking...")
    assert stages[-1].startswith("Done")
    # the transcript is on the page while the reply is thought of
    at_thinking = next(step for step in steps if _status(step[0]) == "Thinking of a reply...")
    assert "young man" in at_thinking[1].lower()
    final = steps[-1]
    assert final[4] == "An answer to that." and final[3] is not None


def test_translate_labels_the_transcript_as_a_translation(pipeline: Pipeline) -> None:
    first = next(Handlers(pipeline).page_convert(CLIP, "english-female", "auto", "translate", 1.0))
    assert first[1]["label"] == HEARD_TRANSLATED and first[1]["value"] == ""


def test_an_error_is_one_status_and_nothing_else(pipeline: Pipeline) -> None:
    steps = list(Handlers(pipeline).page_convert(None, "english-female", "auto", "transcribe", 1.0))
    status, *outputs = steps[-1]
    assert status["value"].startswith("**Error:** Record something")
    assert status["elem_classes"] == ["status-error"]
    assert all(o == gr.skip() for o in outputs)
    # the API's /convert raises it instead
    with pytest.raises(gr.Error, match="Record something"):
        Handlers(pipeline).convert(None, "english-female", "auto", "transcribe", 1.0)


def test_an_unknown_voice_is_said_in_one_short_line(pipeline: Pipeline) -> None:
    steps = list(Handlers(pipeline).page_speak("Hello there.", "gone-voice", 1.0))
    message = steps[-1][0]["value"]
    assert "unknown voice 'gone-voice'" in message and "valid voices" not in message


def test_a_detected_language_no_voice_speaks_says_what_to_do(pipeline: Pipeline) -> None:
    """Left on "detect", a language other than the page's (English, Hindi) ends with what to
    do; English speech, or a chosen language, ends plainly."""
    from revoice.ui.app import _done

    steps = list(Handlers(pipeline).page_convert(CLIP, "english-female", "auto", "transcribe", 1.0))
    assert _status(steps[-1][0]) == "Done (heard language: en)."
    advice = _done("ar", detected=True)
    assert advice.startswith("Done (heard language: ar). If you spoke English or Hindi, choose")
    assert "**Language**" in advice
    assert _done("ar", detected=False) == "Done (heard language: ar)."
    assert _done("hi", detected=True) == "Done (heard language: hi)."
