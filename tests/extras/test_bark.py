"""Bark through transformers, on a tiny random-weight Bark saved in suno/bark-small's layout."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from revoice import text as textsplit
from revoice.config import Settings
from revoice.errors import EngineUnavailable
from revoice.models import ModelCache
from revoice.tts.bark import (
    SAMPLE_RATE,
    BarkSynthesizer,
    estimate_seconds,
    preset_voice,
)
from revoice.types import SynthesisOptions
from revoice.voices import Catalogue
from tests.extras.tiny import bark_preset

OPTIONS = SynthesisOptions()
LONG = (
    "Hello world. How are you today? I am fine, thank you. "
    + " ".join(["word"] * 70)
    + ". The quick brown fox jumps over the lazy dog!"
)


def settings(model: Path | str, tmp_path: Path, **bark: Any) -> Settings:
    return Settings(
        home=tmp_path, voices=tmp_path / "none.toml", bark={"model": str(model), **bark}
    )


@pytest.fixture(scope="module")
def bark(tiny_bark: Path, tmp_path_factory: pytest.TempPathFactory) -> BarkSynthesizer:
    synth = BarkSynthesizer(settings(tiny_bark, tmp_path_factory.mktemp("home")))
    synth.load()
    return synth


class Spy:
    """Records what each Bark stage is handed, and the text of each piece."""

    def __init__(self, synth: BarkSynthesizer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.histories: dict[str, list[Any]] = {"semantic": [], "coarse": [], "fine": []}
        self.texts: list[str] = []
        model = synth._model
        stages = {
            "semantic": model.semantic,
            "coarse": model.coarse_acoustics,
            "fine": model.fine_acoustics,
        }
        for name, stage in stages.items():
            monkeypatch.setattr(stage, "generate", self._wrap(name, stage.generate))
        original = synth.generate

        def generate(text: str, history: Any) -> Any:
            self.texts.append(text)
            return original(text, history)

        monkeypatch.setattr(synth, "generate", generate)

    def _wrap(self, name: str, method: Any) -> Any:
        def wrapper(*args: Any, history_prompt: Any = None, **kwargs: Any) -> Any:
            self.histories[name].append(history_prompt)
            return method(*args, history_prompt=history_prompt, **kwargs)

        return wrapper


def speak(synth: BarkSynthesizer, text: str, preset: str) -> list[np.ndarray]:
    return [a.samples for a in synth.synthesize(text, preset_voice(preset), OPTIONS)]


def test_the_preset_reaches_every_stage(
    bark: BarkSynthesizer, tiny_bark: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(bark, monkeypatch)
    speak(bark, "Hello world.", "v2/hi_speaker_2")
    on_disk = {
        key: np.load(tiny_bark / f"speaker_embeddings/v2/hi_speaker_2_{key}.npy")
        for key in ("semantic_prompt", "coarse_prompt", "fine_prompt")
    }
    assert on_disk["semantic_prompt"].tolist() == bark_preset(3)["semantic_prompt"].tolist()
    for stage, calls in spy.histories.items():
        assert len(calls) == 1, stage
        for key, expected in on_disk.items():
            np.testing.assert_array_equal(calls[0][key].cpu().numpy(), expected, err_msg=stage)


def test_presets_match_what_the_transformers_processor_reads(
    bark: BarkSynthesizer, tiny_bark: Path
) -> None:
    """The fixture's layout is the real one: BarkProcessor finds the same presets."""
    from transformers import BarkProcessor

    processor = BarkProcessor.from_pretrained(tiny_bark)
    assert "v2/en_speaker_9" in processor.available_voice_presets
    theirs = processor._load_voice_preset("v2/en_speaker_9")
    ours = bark.preset("v2/en_speaker_9")
    for key, value in theirs.items():
        np.testing.assert_array_equal(ours[key].cpu().numpy(), value)


def test_presets_change_the_output_and_a_seed_repeats_it(bark: BarkSynthesizer) -> None:
    one = speak(bark, "Hello world.", "v2/en_speaker_1")
    again = speak(bark, "Hello world.", "v2/en_speaker_1")
    other = speak(bark, "Hello world.", "v2/en_speaker_9")
    np.testing.assert_array_equal(np.concatenate(one), np.concatenate(again))
    a, b = np.concatenate(one), np.concatenate(other)
    assert a.shape != b.shape or np.abs(a - b).max() > 1e-3


def test_long_text_yields_every_piece_in_order_at_24khz(
    bark: BarkSynthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(bark, monkeypatch)
    expected = list(textsplit.pieces(LONG, bark.fits))
    assert len(expected) >= 5  # 4 sentences, one of them too long for one Bark call
    assert all(estimate_seconds(p) <= 13.0 for p in expected)
    stream = bark.synthesize(LONG, preset_voice("v2/en_speaker_1"), OPTIONS)
    assert isinstance(stream, Iterator)
    chunks = []
    for chunk in stream:  # streamed: each piece is made only when it is asked for
        chunks.append(chunk)
        assert len(spy.texts) == len(chunks)
    assert spy.texts == expected
    assert " ".join(spy.texts).split() == LONG.split()  # every word, once, in order
    assert len(chunks) == len(expected)
    for chunk in chunks:
        assert chunk.sample_rate == SAMPLE_RATE == 24000
        assert chunk.samples.dtype == np.float32
        assert len(chunk.samples) > 0.25 * SAMPLE_RATE
        assert np.abs(chunk.samples).max() <= 1.0
    # with history = "preset", every piece is conditioned on the preset itself
    first = spy.histories["semantic"][0]["semantic_prompt"]
    for history in spy.histories["semantic"]:
        assert history["semantic_prompt"] is first


def test_previous_piece_as_history(
    tiny_bark: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synth = BarkSynthesizer(settings(tiny_bark, tmp_path, history="previous"))
    synth.load()
    spy = Spy(synth, monkeypatch)
    speak(synth, "Hello world. How are you today?", "v2/en_speaker_1")
    first, second = spy.histories["semantic"]
    preset = synth.preset("v2/en_speaker_1")
    assert first is preset
    assert second is not preset
    assert second["coarse_prompt"].shape[0] == 2 and second["fine_prompt"].shape[0] == 8
    assert second["fine_prompt"].shape[1] == second["coarse_prompt"].shape[1]
    assert int(second["semantic_prompt"].max()) < 10_000


def test_loads_through_the_model_cache_and_the_bark_model_shorthand(
    tiny_bark: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVOICE_BARK_MODEL", str(tiny_bark))
    monkeypatch.setenv("REVOICE_HOME", str(tmp_path))
    cfg = Settings()
    assert cfg.bark_model == str(tiny_bark)
    synth = ModelCache(cfg).tts("bark")
    voice = Catalogue.load(None, cfg).get("bark/v2/en_speaker_9")
    chunks = list(synth.synthesize("Hi.", voice, OPTIONS))
    assert len(chunks) == 1 and chunks[0].sample_rate == 24000


def test_seed_names_speak_the_seed_presets(
    bark: BarkSynthesizer, tiny_bark: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue = Catalogue.load(None, settings(tiny_bark, tmp_path, seed_presets=True))
    voice = catalogue.get("hindi-male-1")
    assert (voice.engine, voice.base) == ("bark", "v2/hi_speaker_2")
    spy = Spy(bark, monkeypatch)
    list(bark.synthesize("Namaste.", voice, OPTIONS))
    np.testing.assert_array_equal(
        spy.histories["semantic"][0]["semantic_prompt"].cpu().numpy(),
        bark_preset(3)["semantic_prompt"],
    )


def test_a_voice_file_of_your_own(bark: BarkSynthesizer, tmp_path: Path) -> None:
    path = tmp_path / "me.npz"
    np.savez(path, **bark_preset(42))
    voice = preset_voice("v2/en_speaker_1")
    mine = type(voice)(**{**voice.__dict__, "id": "me", "base": str(path)})
    assert len(list(bark.synthesize("Hello.", mine, OPTIONS))) == 1


def test_a_preset_missing_from_the_directory_says_how_to_get_it(bark: BarkSynthesizer) -> None:
    with pytest.raises(EngineUnavailable, match=r"hf download .*speaker_embeddings/v2"):
        bark.preset("v2/fr_speaker_3")


def test_missing_weights_say_how_to_provide_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    synth = BarkSynthesizer(settings("revoice-tests/no-such-bark", tmp_path, allow_download=True))
    with pytest.raises(EngineUnavailable) as info:
        synth.load()
    message = str(info.value)
    assert "not available locally" in message and "hf download" in message
    assert "REVOICE_BARK__MODEL" in message
    with pytest.raises(EngineUnavailable, match="no directory"):
        BarkSynthesizer(settings(tmp_path / "absent", tmp_path)).load()


def test_a_directory_without_generation_config_is_refused(tiny_bark: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_bark, broken)
    (broken / "generation_config.json").unlink()
    with pytest.raises(EngineUnavailable, match="generation_config"):
        BarkSynthesizer(settings(broken, tmp_path)).load()
