"""Custom voices from the CLI and the HTTP API: create, list, preview, use, delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from revoice import codecs
from revoice.audio import Audio
from revoice.cli import main
from revoice.config import Settings
from revoice.effects import median_f0
from revoice.pipeline import Pipeline
from revoice.server import create_app


def test_cli_add_preview_use_remove(env_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "voices",
                "add",
                "low",
                "--from",
                "english-female",
                "--pitch",
                "-3",
                "--formant",
                "0.9",
                "--speed",
                "1.1",
            ]
        )
        == 0
    )
    assert "saved low" in capsys.readouterr().out
    assert main(["voices", "--json"]) == 0
    assert '"id": "low"' in capsys.readouterr().out
    sample = env_home / "low.wav"
    assert main(["voices", "preview", "low", "-o", str(sample)]) == 0
    assert codecs.decode(sample).duration > 1
    assert main(["speak", "Custom voices work.", "-v", "low", "-o", str(env_home / "s.wav")]) == 0
    assert (
        main(
            [
                "voices",
                "add",
                "mix",
                "--from",
                "english-female",
                "--blend",
                "jf_alpha=0.6,jm_kumo=0.4",
            ]
        )
        == 0
    )
    assert main(["voices", "remove", "low"]) == 0
    capsys.readouterr()
    assert main(["voices", "remove", "low"]) == 2
    assert "unknown voice 'low'" in capsys.readouterr().err
    assert main(["voices", "add", "x", "--from", "english-female", "--pitch", "99"]) == 2
    assert "pitch" in capsys.readouterr().err


def test_cli_saves_over_a_voice_only_when_asked(
    env_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["voices", "add", "twice", "--from", "english-female", "--pitch"]
    assert main([*add, "1"]) == 0
    capsys.readouterr()
    assert main([*add, "2"]) == 2
    err = capsys.readouterr().err
    assert "already have a voice 'twice'; add --force to replace it" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    recording = env_home / "me.wav"
    recording.write_bytes(b"not even read: the name is taken")
    assert main(["voices", "add", "twice", "--like-me", str(recording)]) == 2
    assert "add --force to replace it" in capsys.readouterr().err
    assert main([*add, "3", "--replace"]) == 0
    assert main([*add, "4", "--force"]) == 0
    assert "pitch = 4.0" in (env_home / "voices.toml").read_text()
    capsys.readouterr()
    assert main(["voices", "remove", "english-female"]) == 2
    err = capsys.readouterr().err
    assert "'english-female' is a built-in voice and cannot be removed" in err, err


def test_cli_like_me(
    env_home: Path, pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = env_home / "me.wav"
    codecs.write(
        Audio.concat(pipeline.speak("I am recording my own voice for a test.", "kokoro/jm_kumo")),
        recording,
    )
    assert main(["voices", "add", "me", "--like-me", str(recording)]) == 0
    out = capsys.readouterr().out
    assert "nearest voice: kokoro/jm_kumo" in out and "saved me" in out
    # saved as the page and the API save it: described as the user's own
    assert main(["voices", "--json"]) == 0
    mine = next(v for v in json.loads(capsys.readouterr().out) if v["id"] == "me")
    assert mine["description"].startswith("sounds like you: kokoro/jm_kumo, pitch "), mine


def test_api_create_preview_use_delete(
    settings: Settings, pipeline: Pipeline, tmp_path: Path
) -> None:
    mine = settings.model_copy(update={"voices": tmp_path / "voices.toml"})
    app = create_app(mine, Pipeline(mine, models=pipeline.models))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        made = client.post(
            "/v1/audio/voices",
            json={"id": "bright", "voice": "english-female", "pitch": 4, "formant": 1.1},
        )
        assert made.status_code == 201, made.text
        assert made.json()["parent"] == "english-female" and made.json()["pitch"] == 4
        ids = [v["id"] for v in client.get("/v1/audio/voices").json()["data"]]
        assert "bright" in ids
        preview = client.get("/v1/audio/voices/bright/preview", params={"response_format": "wav"})
        assert preview.status_code == 200
        base = client.get(
            "/v1/audio/voices/english-female/preview", params={"response_format": "wav"}
        )
        ratio = median_f0(codecs.decode(preview.content)) / median_f0(codecs.decode(base.content))
        assert 1.2 <= ratio <= 1.32
        # the OpenAI speech endpoint applies the voice's pitch too (it used to skip the Pipeline)
        said = "The quick brown fox jumps over the lazy dog."
        spoken, plain = (
            client.post(
                "/v1/audio/speech",
                json={"model": "tts-1", "voice": v, "input": said, "response_format": "wav"},
            )
            for v in ("bright", "english-female")
        )
        assert spoken.status_code == 200 and plain.status_code == 200
        ratio = median_f0(codecs.decode(spoken.content)) / median_f0(codecs.decode(plain.content))
        assert 1.2 <= ratio <= 1.32, ratio
        bad = client.post(
            "/v1/audio/voices", json={"id": "x", "voice": "english-female", "formant": 3}
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_voice_config"
        shipped = client.delete("/v1/audio/voices/english-female")
        assert shipped.status_code == 400
        assert client.delete("/v1/audio/voices/bright").status_code == 204
        assert client.delete("/v1/audio/voices/bright").status_code == 404
        recording = codecs.encode(
            Audio.concat(
                pipeline.speak("I am recording my own voice for a test.", "kokoro/jf_alpha")
            ),
            "wav",
        )
        like = client.post(
            "/v1/audio/voices/like-me", files={"file": ("me.wav", recording)}, data={"id": "me"}
        )
        assert like.status_code == 200, like.text
        assert like.json()["voice"] == "kokoro/jf_alpha" and like.json()["saved"]["id"] == "me"
        short = client.post(
            "/v1/audio/voices/like-me",
            files={"file": ("s.wav", codecs.encode(Audio.silence(0.5, 16000), "wav"))},
        )
        assert short.status_code == 400


def test_web_page_makes_previews_saves_and_deletes_voices(
    settings: Settings, pipeline: Pipeline, tmp_path: Path
) -> None:
    from gradio_client import Client

    from tests.robustness.conftest import serve_in_thread

    mine = settings.model_copy(update={"voices": tmp_path / "voices.toml"})
    own = Pipeline(mine, models=pipeline.models)
    with serve_in_thread(create_app(mine, own)) as url:
        client = Client(f"{url}/", verbose=False)
        plain = client.predict("english-female", 0, 1.0, 1.0, 0, "", api_name="/preview_voice")
        higher = client.predict("english-female", 4, 1.0, 1.0, 0, "", api_name="/preview_voice")
        ratio = median_f0(codecs.decode(higher)) / median_f0(codecs.decode(plain))
        assert 1.2 <= ratio <= 1.32
        status, *_ = client.predict(
            "page-voice", "english-female", -2, 0.95, 1.1, 0, api_name="/save_voice"
        )
        assert "Saved **page-voice**" in status
        assert "[voices.page-voice]" in mine.voices.read_text()
        assert own.voice("page-voice").pitch == -2
        # saving again is refused unless "Replace it if it exists" is ticked
        status, *_ = client.predict(
            "page-voice", "english-female", 3, 1.0, 1.0, 0, api_name="/save_voice"
        )
        assert "already have a voice **page-voice**" in status
        assert own.voice("page-voice").pitch == -2
        status, *_ = client.predict(
            "page-voice", "english-female", 3, 1.0, 1.0, 0, True, api_name="/save_voice"
        )
        assert "Saved **page-voice**" in status and own.voice("page-voice").pitch == 3
        status, main_voice, _own = client.predict(
            "page-voice", "page-voice", api_name="/delete_voice"
        )
        assert "Deleted" in status and "page-voice" not in own.catalogue
        assert main_voice["value"] == mine.default_voice  # the deleted voice was chosen
        status, *_ = client.predict(None, "english-female", api_name="/delete_voice")
        assert "Choose one of your voices" in status  # said in the panel, not raised
