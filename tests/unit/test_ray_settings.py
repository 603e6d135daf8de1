"""Ray Serve mode without a cluster: settings to deployment options, engine choice, errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from revoice import errors
from revoice.cli import main
from revoice.config import Settings


@pytest.mark.parametrize(
    "error",
    [
        errors.InvalidOption("speed must be 0.25-4", "speed"),
        errors.UnknownModel("nope", ["base", "tiny.en"], "set ALLOW_DOWNLOAD"),
        errors.UnknownVoice("nope", ["alloy"]),
        errors.EngineUnavailable("Bark has no weights", "bark"),
        errors.InputTooLarge("too long", "file"),
        errors.AudioDecodeError("not audio"),
    ],
)
def test_errors_survive_pickling(error: errors.RevoiceError) -> None:
    """A replica's error crosses processes as itself: type, message, status, code, param."""
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert (copy.status, copy.code, copy.param) == (error.status, error.code, error.param)


def test_address_needs_ray(env_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--address", "auto"]) != 0
    assert "--address is for --ray" in capsys.readouterr().err


def test_ray_serves_no_tls(env_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "--ray", "--ssl-certfile", "c.pem", "--ssl-keyfile", "k.pem"])
    assert code != 0
    assert "TLS" in capsys.readouterr().err


def test_deployment_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVOICE_RAY__ASR__REPLICAS", "3")
    monkeypatch.setenv("REVOICE_RAY__TTS__AUTOSCALE", "true")
    monkeypatch.setenv("REVOICE_RAY__OVERRIDES", '{"tts-bark": {"num_gpus": 1}}')
    ray = Settings().ray
    assert ray.asr.replicas == 3 and ray.tts.autoscale
    assert ray.overrides["tts-bark"].num_gpus == 1
    assert ray.ingress.max_ongoing_requests == 100  # the app itself takes many at once


class TestWithRay:
    @pytest.fixture(autouse=True)
    def _ray(self) -> None:
        pytest.importorskip("ray", reason="the ray extra is not installed")

    def test_options(self) -> None:
        from revoice.ray_serve import app as ray_app

        settings = Settings(
            ray={
                "asr": {"replicas": 2, "num_cpus": 2},
                "tts": {"autoscale": True, "max_replicas": 3},
                "overrides": {"tts-bark": {"num_gpus": 1, "max_ongoing_requests": 1}},
            }
        )
        asr = ray_app._options(settings, "asr", settings.ray.asr)
        assert asr["num_replicas"] == 2 and asr["ray_actor_options"]["num_cpus"] == 2
        kokoro = ray_app._options(settings, "tts-kokoro", settings.ray.tts)
        assert "num_replicas" not in kokoro
        assert kokoro["autoscaling_config"]["max_replicas"] == 3
        bark = ray_app._options(settings, "tts-bark", settings.ray.tts)
        assert bark["ray_actor_options"]["num_gpus"] == 1 and bark["max_ongoing_requests"] == 1

    def test_tts_engines(self, settings: Settings) -> None:
        from revoice import ray_serve

        engines = ray_serve.tts_engines(settings)
        assert {"piper", "kokoro"} <= set(engines)  # every engine a catalogue voice uses
        chosen = settings.model_copy(
            update={"ray": settings.ray.model_copy(update={"tts_engines": ["kokoro", "kokoro"]})}
        )
        assert ray_serve.tts_engines(chosen) == ["kokoro"]
        unknown = settings.model_copy(
            update={"ray": settings.ray.model_copy(update={"tts_engines": ["nope"]})}
        )
        with pytest.raises(errors.UnknownName, match="valid tts engines"):
            ray_serve.tts_engines(unknown)

    def test_voice_of_an_undeployed_engine(self, settings: Settings) -> None:
        from revoice import ray_serve
        from revoice.models import ModelCache

        build = ray_serve.remote_builder(asr=None, tts={}, text=None)  # type: ignore[arg-type]
        models = ModelCache(settings, build, where="@ray")
        with pytest.raises(errors.EngineUnavailable, match="REVOICE_RAY__TTS_ENGINES") as info:
            models.tts("festival")
        assert info.value.status == 503
        with pytest.raises(errors.UnknownName):
            models.tts("no-such-engine")


def test_serve_ray_without_the_extra_names_it(
    env_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import revoice

    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    for name in [m for m in sys.modules if m.startswith("revoice.ray_serve")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(revoice, "ray_serve", raising=False)
    assert main(["serve", "--ray"]) != 0
    err = capsys.readouterr().err
    assert "Ray Serve is not installed" in err and "pip install -e '.[ray]'" in err
    assert "Traceback" not in err
