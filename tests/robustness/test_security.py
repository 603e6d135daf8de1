"""Security: voice files stay in their directories, the page serves no arbitrary files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from revoice.config import Settings
from revoice.errors import VoiceConfigError
from revoice.voices import Catalogue


def _fake_piper(where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    model = where / "voice.onnx"
    model.write_bytes(b"onnx")
    (where / "voice.onnx.json").write_text(json.dumps({"audio": {"sample_rate": 22050}}))
    return model


def test_voice_files_are_confined_to_the_voice_directories(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    voices = config_dir / "voices.toml"
    inside = _fake_piper(config_dir / "models")
    outside = _fake_piper(tmp_path / "elsewhere")
    settings = Settings(home=tmp_path / "home", voices=voices)
    voices.write_text(f'[voices.ok]\nengine = "piper"\nmodel = "{inside}"\n')
    assert Catalogue.load(voices, settings).get("ok").base == str(inside)
    voices.write_text(f'[voices.sneaky]\nengine = "piper"\nmodel = "{outside}"\n')
    with pytest.raises(VoiceConfigError, match="outside the voice directories"):
        Catalogue.load(voices, settings)
    # a symlink inside pointing outside does not get around it
    (config_dir / "link.onnx").symlink_to(outside)
    (config_dir / "link.onnx.json").symlink_to(outside.with_name("voice.onnx.json"))
    voices.write_text(f'[voices.linked]\nengine = "piper"\nmodel = "{config_dir / "link.onnx"}"\n')
    with pytest.raises(VoiceConfigError, match="outside"):
        Catalogue.load(voices, settings)
    allowed = settings.model_copy(update={"voice_dirs": [tmp_path / "elsewhere"]})
    voices.write_text(f'[voices.sneaky]\nengine = "piper"\nmodel = "{outside}"\n')
    assert Catalogue.load(voices, allowed).get("sneaky").engine == "piper"


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../../../../etc/passwd",
        "/file=/etc/passwd",
        "/gradio_api/file=/proc/self/environ",
        "/../../etc/passwd",
        "/static/../../../../etc/passwd",
    ],
)
def test_the_page_serves_no_arbitrary_files(api: TestClient, path: str) -> None:
    reply = api.get(path)
    assert reply.status_code in (400, 403, 404), (path, reply.status_code)
    assert "root:" not in reply.text and "PATH=" not in reply.text
