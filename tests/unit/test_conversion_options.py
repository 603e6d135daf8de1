"""One options object for voice to voice, as every door builds it."""

from __future__ import annotations

import pytest

from revoice.errors import InvalidOption
from revoice.pipeline import ConversionOptions
from revoice.types import SPEED


def test_translate_is_spelled_once() -> None:
    """`mode="translate"` (the API's and the page's spelling) is Whisper's translate task."""
    by_mode = ConversionOptions("english-female", mode="translate")
    by_task = ConversionOptions("english-female", task="translate")
    assert by_mode == by_task
    assert (by_mode.task, by_mode.mode) == ("translate", "none")


def test_what_can_be_said_as_it_is_heard() -> None:
    assert ConversionOptions().as_heard
    assert ConversionOptions(task="translate").as_heard
    reply = ConversionOptions(mode="reply")
    assert reply.text_step and not reply.as_heard
    rewrite = ConversionOptions(instruction="  make it formal ")
    assert rewrite.instruction == "make it formal" and not rewrite.as_heard
    assert ConversionOptions(instruction="   ").instruction is None  # blank: no text step


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"mode": "sing"}, "mode"),
        ({"task": "summarise"}, "task"),
        ({"speed": SPEED.high * 2}, "speed"),
        ({"speed": 0.0}, "speed"),
    ],
)
def test_bad_options_are_refused_before_any_work(options: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidOption) as caught:
        ConversionOptions(**options)  # type: ignore[arg-type]
    assert caught.value.param == param
