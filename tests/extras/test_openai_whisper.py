"""openai-whisper: a tiny multilingual checkpoint loaded by whisper.load_model(path)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
whisper = pytest.importorskip("whisper")

from revoice import codecs  # noqa: E402
from revoice.asr.base import HINDI_PROMPT  # noqa: E402
from revoice.asr.openai_whisper import OpenAIWhisperTranscriber, _segment  # noqa: E402
from revoice.audio import Audio  # noqa: E402
from revoice.config import Settings  # noqa: E402
from revoice.errors import EngineUnavailable, UnknownModel  # noqa: E402
from revoice.models import ModelCache  # noqa: E402
from revoice.types import TranscribeOptions  # noqa: E402
from tests.helpers import HUMAN  # noqa: E402

RATE = 16000


def settings(tmp_path: Path, model: str | None = None, **whisper_cfg: Any) -> Settings:
    asr: dict[str, Any] = {"engine": "openai-whisper", "beam_size": 1}
    if model is not None:
        asr["model"] = model
    return Settings(
        home=tmp_path, voices=tmp_path / "none.toml", asr=asr, openai_whisper=whisper_cfg
    )


@pytest.fixture(scope="module")
def asr(tiny_whisper: Path, tmp_path_factory: pytest.TempPathFactory) -> OpenAIWhisperTranscriber:
    engine = OpenAIWhisperTranscriber(
        settings(tmp_path_factory.mktemp("home"), str(tiny_whisper)), model=str(tiny_whisper)
    )
    engine.load()
    return engine


@pytest.fixture(scope="module")
def long_speech() -> Audio:
    """About 75 s of human speech: every clip, twice, with short pauses."""
    gap = np.zeros(RATE // 4, dtype=np.float32)
    parts = []
    for _ in range(2):
        for path in sorted(HUMAN.glob("*.wav")):
            parts += [codecs.decode(path.read_bytes()).resample(RATE).samples, gap]
    return Audio(np.concatenate(parts), RATE)


class DecodeSpy:
    """Records every window openai-whisper decodes, with its options."""

    def __init__(self, engine: OpenAIWhisperTranscriber, monkeypatch: pytest.MonkeyPatch):
        self.options: list[Any] = []
        model = engine._model
        original = model.decode

        def decode(mel: Any, options: Any) -> Any:
            self.options.append(options)
            return original(mel, options)

        monkeypatch.setattr(model, "decode", decode)


def test_the_whole_recording_is_decoded_window_by_window(
    asr: OpenAIWhisperTranscriber, long_speech: Audio, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DecodeSpy(asr, monkeypatch)
    duration = len(long_speech.samples) / RATE
    assert duration > 70
    stream = asr.stream(long_speech, TranscribeOptions(language="en", temperature=0.0))
    assert stream.duration == pytest.approx(duration)
    assert spy.options == []  # nothing is decoded until the segments are asked for
    list(stream.segments)
    clips = asr._clips(long_speech.samples)
    windows = sum(math.ceil((b - a) / (30 * RATE)) for a, b in clips)
    assert windows >= 3  # the seed decoded one padded 30 s window and dropped the rest
    assert len(spy.options) == windows


def test_without_vad_every_window_is_decoded(
    asr: OpenAIWhisperTranscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DecodeSpy(asr, monkeypatch)
    noise = np.random.default_rng(0).normal(0, 0.05, 70 * RATE).astype(np.float32)
    asr.transcribe(Audio(noise, RATE), TranscribeOptions(language="en", vad=False, temperature=0))
    assert len(spy.options) == 3  # 70 s = 30 + 30 + 10


def test_silence_decodes_nothing(
    asr: OpenAIWhisperTranscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DecodeSpy(asr, monkeypatch)
    result = asr.transcribe(Audio(np.zeros(5 * RATE, np.float32), RATE), TranscribeOptions())
    assert result.text == "" and result.segments == () and result.duration == 5.0
    assert spy.options == []


def test_language_detection_and_the_translate_task(
    asr: OpenAIWhisperTranscriber, long_speech: Audio, monkeypatch: pytest.MonkeyPatch
) -> None:
    language, probability = asr.detect_language(long_speech)
    assert language == "en" and 0.5 < probability <= 1.0  # the tiny model is wired for en
    spy = DecodeSpy(asr, monkeypatch)
    clip = Audio(long_speech.samples[: 10 * RATE], RATE)
    result = asr.transcribe(clip, TranscribeOptions(task="translate", temperature=0))
    assert result.language == "en" and result.task == "translate"
    assert result.language_probability == pytest.approx(probability, abs=0.2)
    assert {o.task for o in spy.options} == {"translate"}
    assert not any(o.fp16 for o in spy.options)  # float32 on the CPU


def test_hindi_gets_the_devanagari_prompt(
    asr: OpenAIWhisperTranscriber, long_speech: Audio, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DecodeSpy(asr, monkeypatch)
    clip = Audio(long_speech.samples[: 5 * RATE], RATE)
    result = asr.transcribe(clip, TranscribeOptions(language="hi", temperature=0))
    assert result.language == "hi"
    tokenizer = whisper.tokenizer.get_tokenizer(True, language="hi")
    prompt = spy.options[0].prompt
    assert tokenizer.decode(prompt).strip() == HINDI_PROMPT
    assert spy.options[0].language == "hi"


def test_segments_carry_times_words_and_scores() -> None:
    raw = {
        "start": 30.0,
        "end": 31.5,
        "text": " hello there ",
        "avg_logprob": -0.2,
        "no_speech_prob": 0.01,
        "words": [{"start": 30.0, "end": 30.4, "word": " hello", "probability": 0.9}],
    }
    segment = _segment(3, raw)
    assert (segment.id, segment.start, segment.end, segment.text) == (3, 30.0, 31.5, "hello there")
    assert segment.words[0].word == " hello" and segment.words[0].probability == 0.9


def test_default_model_is_medium_and_a_missing_one_says_how_to_get_it(
    tmp_path: Path,
) -> None:
    engine = OpenAIWhisperTranscriber(settings(tmp_path, download_root=str(tmp_path)))
    assert engine.model_name == "medium"  # asr.model left at its default: the seed's model
    with pytest.raises(EngineUnavailable) as info:
        engine.load()
    message = str(info.value)
    assert "'medium' is not in" in message and "ALLOW_DOWNLOAD" in message
    explicit = OpenAIWhisperTranscriber(settings(tmp_path, model="base"))
    assert explicit.model_name == "base"  # chosen on purpose: kept
    with pytest.raises(UnknownModel, match="large-v3"):
        OpenAIWhisperTranscriber(settings(tmp_path), model="no-such-model").load()


def test_loads_through_the_model_cache(tiny_whisper: Path, tmp_path: Path) -> None:
    cache = ModelCache(settings(tmp_path, model=str(tiny_whisper)))
    engine = cache.asr()
    assert isinstance(engine, OpenAIWhisperTranscriber)
    assert engine.multilingual
    assert cache.loaded() == [f"asr:{tiny_whisper}"]
