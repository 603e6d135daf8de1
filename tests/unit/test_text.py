"""Text splitting: cleaning, sentences (English and Hindi), pieces that fit a model's limit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revoice import text
from revoice.text import (
    clean,
    complete_sentences,
    pieces,
    script_language,
    split_sentences,
    split_to_fit,
)

# -- clean ------------------------------------------------------------------------------------


def test_clean_strips_control_characters() -> None:
    raw = "He\x00llo\x07 wor\x1bld\x7f!\x85 \u200bend\ufeff"
    out = clean(raw)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in out)
    assert "\u200b" not in out and "\ufeff" not in out
    assert out.replace(" ", "") == "Helloworld!end"


def test_clean_collapses_spaces_and_tabs_and_strips() -> None:
    assert clean("  a \t\t b   c  ") == "a b c"


def test_clean_keeps_newlines_and_normalises_windows_line_ends() -> None:
    assert clean("one\ntwo") == "one\ntwo"
    assert clean("one\r\ntwo\rthree") == "one\ntwo\nthree"


def test_clean_normalises_to_nfc() -> None:
    decomposed = "cafe\u0301"  # e + combining acute
    assert clean(decomposed) == "caf\u00e9"
    # Devanagari: nukta forms compose where Unicode defines a composition (ऩ = न + ़)
    assert clean("\u0928\u093c") == "\u0929"


def test_clean_keeps_devanagari_joiners() -> None:
    # ZWJ / ZWNJ change how Devanagari renders; they are not control characters to drop
    assert clean("क्\u200dष") == "क्\u200dष"
    assert clean("क्\u200cष") == "क्\u200cष"


def test_clean_empty() -> None:
    assert clean("") == ""
    assert clean("\x00\x01 \t") == ""


# -- script ---------------------------------------------------------------------------------


def test_script_language() -> None:
    assert script_language("नमस्ते दुनिया") == "hi"
    assert script_language("Hello नमस्ते") == "hi"
    assert script_language("Hello world") is None
    assert script_language("") is None


# -- sentences ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Hello world. How are you? I am fine!", ["Hello world.", "How are you?", "I am fine!"]),
        ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
        (
            "Mrs. Brown and Prof. White arrived, i.e. both. Then tea.",
            ["Mrs. Brown and Prof. White arrived, i.e. both.", "Then tea."],
        ),
        (
            "J. K. Rowling wrote it. Then she rested.",
            ["J. K. Rowling wrote it.", "Then she rested."],
        ),
        (
            "The price is 3.14 dollars. Version 2.0 is out.",
            ["The price is 3.14 dollars.", "Version 2.0 is out."],
        ),
        ("Really?! Yes!!! Wait... what?", ["Really?!", "Yes!!!", "Wait...", "what?"]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("She asked, 'Why?' Nobody answered.", ["She asked, 'Why?'", "Nobody answered."]),
        ("He said “Go!” They went.", ["He said “Go!”", "They went."]),
        ("A note (see above.) Another one.", ["A note (see above.)", "Another one."]),
        ("No final stop", ["No final stop"]),
        ("Ends with ellipsis… Next.", ["Ends with ellipsis…", "Next."]),
    ],
)
def test_split_sentences_english(source: str, expected: list[str]) -> None:
    assert split_sentences(source) == expected


def test_split_sentences_hindi_danda() -> None:
    source = "मैं घर जा रहा हूँ। तुम कहाँ हो? ठीक है। फिर मिलेंगे॥ अलविदा"
    assert split_sentences(source) == [
        "मैं घर जा रहा हूँ।",
        "तुम कहाँ हो?",
        "ठीक है।",
        "फिर मिलेंगे॥",
        "अलविदा",
    ]


def test_split_sentences_mixed_scripts() -> None:
    assert split_sentences("Hello. नमस्ते। Bye!") == ["Hello.", "नमस्ते।", "Bye!"]


def test_split_sentences_paragraphs_always_break() -> None:
    source = "First paragraph without a stop\n\nSecond paragraph.\n  \nThird"
    assert split_sentences(source) == [
        "First paragraph without a stop",
        "Second paragraph.",
        "Third",
    ]


def test_split_sentences_single_newline_joins_lines() -> None:
    assert split_sentences("A line that wraps\nonto the next one.") == [
        "A line that wraps onto the next one.",
    ]


def test_split_sentences_bullets_break() -> None:
    assert split_sentences("Shopping:\n- milk\n- bread\n* eggs") == [
        "Shopping:",
        "- milk",
        "- bread",
        "* eggs",
    ]


def test_split_sentences_windows_paragraphs() -> None:
    assert split_sentences("One\r\n\r\nTwo\r\nlines.") == ["One", "Two lines."]


def test_split_sentences_empty_and_blank() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n\n \t ") == []


words_st = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=200
)


@settings(max_examples=200, deadline=None)
@given(words_st)
def test_split_sentences_keeps_every_word(source: str) -> None:
    sentences = split_sentences(source)
    assert " ".join(sentences).split() == clean(source).split()
    assert all(s == s.strip() and s for s in sentences)


# -- split_to_fit -----------------------------------------------------------------------------


def short(limit: int) -> Callable[[str], bool]:
    return lambda piece: len(piece) <= limit


def test_split_to_fit_returns_whole_sentence_when_it_fits() -> None:
    assert split_to_fit("Short enough.", short(50)) == ["Short enough."]


def test_split_to_fit_prefers_clause_boundaries() -> None:
    sentence = "First clause here, second clause there; third clause: fourth one"
    out = split_to_fit(sentence, short(20))
    assert out == ["First clause here,", "second clause there;", "third clause:", "fourth one"]


def test_split_to_fit_packs_words_greedily() -> None:
    assert split_to_fit("a b c d e f g", short(5)) == ["a b c", "d e f", "g"]


def test_split_to_fit_cuts_a_word_that_cannot_fit() -> None:
    out = split_to_fit("supercalifragilistic", short(6))
    assert "".join(out) == "supercalifragilistic"
    assert all(len(p) <= 6 for p in out)


def test_split_to_fit_terminates_when_nothing_fits() -> None:
    # even one character over the limit: no input is dropped and no endless recursion
    assert "".join(split_to_fit("abc", lambda piece: False)) == "abc"
    assert split_to_fit("x", lambda piece: False) == ["x"]


def test_split_to_fit_devanagari() -> None:
    sentence = "यह एक बहुत लंबा वाक्य है, जिसे छोटे टुकड़ों में बाँटना पड़ेगा।"
    out = split_to_fit(sentence, short(20))
    assert " ".join(out).split() == sentence.split()
    assert all(len(p) <= 20 for p in out)


word_st = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "P"]), min_size=1, max_size=12
)
sentence_st = st.lists(word_st, min_size=1, max_size=40).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(sentence_st, st.integers(min_value=1, max_value=80))
def test_split_to_fit_never_loses_text(sentence: str, limit: int) -> None:
    longest = max(len(w) for w in sentence.split())
    out = split_to_fit(sentence, short(limit))
    if longest <= limit:
        # whenever a single word fits, words are never cut and every piece fits
        assert " ".join(out).split() == sentence.split()
        assert all(len(p) <= limit for p in out)
    else:
        # a word too long is cut by characters: the characters all survive, in order
        assert "".join("".join(out).split()) == "".join(sentence.split())
    assert all(p.strip() for p in out)


@settings(max_examples=200, deadline=None)
@given(sentence_st, st.integers(min_value=1, max_value=30))
def test_split_to_fit_with_non_monotone_fits(sentence: str, limit: int) -> None:
    # a limit in words rather than characters (any predicate must work)
    def fits(piece: str) -> bool:
        return len(piece.split()) <= limit

    out = split_to_fit(sentence, fits)
    assert " ".join(out).split() == sentence.split()
    assert all(fits(p) for p in out)


# -- pieces -----------------------------------------------------------------------------------


def test_pieces_skips_punctuation_only_sentences() -> None:
    out = list(pieces("Hello. ... !!! World. ? । \n\n— --", short(100)))
    assert out == ["Hello.", "World."]


def test_pieces_splits_long_sentences_in_order() -> None:
    source = "One two three four five. Six seven. नमस्ते दुनिया।"
    out = list(pieces(source, short(12)))
    assert out == ["One two", "three four", "five.", "Six seven.", "नमस्ते", "दुनिया।"]
    assert all(len(p) <= 12 for p in out)


def test_pieces_of_nothing() -> None:
    assert list(pieces("", short(10))) == []
    assert list(pieces("\x00 \n\n ...", short(10))) == []


def test_pieces_is_lazy() -> None:
    calls: list[str] = []

    def fits(piece: str) -> bool:
        calls.append(piece)
        return True

    gen = pieces("First. Second. Third.", fits)
    assert next(gen) == "First."
    assert calls == ["First."]


def test_abbreviations_are_lower_case_words() -> None:
    # the lookup lower-cases the candidate word, so every entry must be lower case
    assert all(a == a.lower() for a in text._ABBREVIATIONS)


@pytest.mark.parametrize(
    ("text_in", "ready", "rest"),
    [
        ("Hello there. How are", "Hello there.", "How are"),
        ("Hello there. How are you?", "Hello there. How are you?", ""),
        ("no end yet", "", "no end yet"),
        ("", "", ""),
        ('He said "stop." Then', 'He said "stop."', "Then"),
        ("यह किताब है। और", "यह किताब है।", "और"),
        ("Dr. Smith is", "", "Dr. Smith is"),
    ],
)
def test_complete_sentences(text_in: str, ready: str, rest: str) -> None:
    assert complete_sentences(text_in) == (ready, rest)
