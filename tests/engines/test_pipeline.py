"""Voice to voice end to end through the one Pipeline."""

from __future__ import annotations

import re

from revoice.audio import Audio
from revoice.pipeline import Pipeline
from revoice.types import TranscribeOptions
from tests.helpers import Clip, cer, normalize, wer


def test_english_recording_respoken_in_another_voice(pipeline: Pipeline, clips: list[Clip]) -> None:
    clip = next(c for c in clips if c.name == "librivox-0890.wav")
    conversion = pipeline.convert(clip.audio, "english-female")
    assert wer([clip.transcript], [conversion.transcript.text]) <= 0.1
    chunks = list(conversion.speech)
    assert chunks and all(c.sample_rate == 24000 for c in chunks)
    heard = pipeline.transcribe(Audio.concat(chunks), TranscribeOptions(language="en")).text
    assert wer([conversion.transcript.text], [heard]) <= 0.15


def test_hindi_voice_given_hindi_speech_speaks_hindi(pipeline: Pipeline) -> None:
    sentence = "मेरा नाम राम है। मैं दिल्ली में रहता हूँ।"
    recording = Audio.concat(pipeline.speak(sentence, "hindi-female-2"))
    conversion = pipeline.convert(recording, "hindi-male-1")
    assert conversion.transcript.language == "hi"
    assert re.search(r"[\u0900-\u097F]", conversion.transcript.text)
    spoken = Audio.concat(conversion.speech)
    heard = pipeline.transcribe(spoken, TranscribeOptions(language="hi")).text
    assert cer(sentence, heard) <= 0.5


def test_english_speech_with_a_hindi_voice_stays_english(
    pipeline: Pipeline, clips: list[Clip]
) -> None:
    clip = next(c for c in clips if c.name == "librivox-0880.wav")
    conversion = pipeline.convert(clip.audio, "hindi-female-1")
    assert conversion.transcript.language == "en"
    assert "young man" in normalize(conversion.transcript.text)


def test_translate_then_speak(pipeline: Pipeline) -> None:
    recording = Audio.concat(pipeline.speak("मुझे किताबें पढ़ना पसंद है।", "hindi-female-2"))
    conversion = pipeline.convert(recording, "english-male-1", language="hi", task="translate")
    assert re.fullmatch(r"[\x00-\x7F]+", conversion.transcript.text)
    # Whisper base translating accented synthetic Hindi is rough: the gist must come through
    words = set(normalize(conversion.transcript.text).split())
    assert len({"i", "like", "love", "books", "reading", "read"} & words) >= 2
    assert Audio.concat(conversion.speech).duration > 0.5


def test_silence_converts_to_nothing(pipeline: Pipeline) -> None:
    conversion = pipeline.convert(Audio.silence(3, 16000), "english-male-1")
    assert conversion.transcript.text == ""
    assert list(conversion.speech) == []
