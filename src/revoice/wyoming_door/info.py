"""What a Wyoming `describe` is answered with: revoice's speech to text and text to speech.

Home Assistant reads this once, when the integration is added (and on reload): it offers the
languages of the installed ASR models and, per language, the installed voices (by
`description`, falling back to `name`). A voice is `installed` when its engine can run here.
"""

from __future__ import annotations

from collections.abc import Collection

from wyoming.info import AsrModel, AsrProgram, Attribution, Info, TtsProgram, TtsVoice

from revoice import __version__, registry
from revoice.asr.base import model_languages
from revoice.config import Settings
from revoice.errors import UnknownName
from revoice.types import Voice
from revoice.voices import Catalogue

NAME = "revoice"
_ATTRIBUTION = Attribution(name="revoice", url="")


def _engine_ready(engine: str, kind: registry.Kind, broken: Collection[str]) -> bool:
    if engine in broken:
        return False
    try:
        return registry.get(engine, kind).installed()
    except UnknownName:
        return False


def asr_models(settings: Settings) -> list[str]:
    """The ASR model names a `transcribe` may ask for: the configured one first."""
    return registry.asr_models(settings.asr.engine, settings.asr.model)


def _voice(voice: Voice, installed: bool) -> TtsVoice:
    return TtsVoice(
        name=voice.id,
        attribution=_ATTRIBUTION,
        installed=installed,
        description=f"{voice.id}: {voice.description}" if voice.description else voice.id,
        version=None,
        languages=list(voice.languages),
    )


def describe(settings: Settings, catalogue: Catalogue, broken: Collection[str] = ()) -> Info:
    """The `info` event's content: one ASR program with its models, one TTS program with every
    catalogue voice (custom voices included). `broken`: engines that failed to load here."""
    asr_ready = _engine_ready(settings.asr.engine, "asr", broken)
    models = [
        AsrModel(
            name=name,
            attribution=_ATTRIBUTION,
            installed=asr_ready,
            description=f"Whisper {name}" + (" (configured)" if i == 0 else ""),
            version=None,
            languages=list(model_languages(name)),
        )
        for i, name in enumerate(asr_models(settings))
    ]
    asr = AsrProgram(
        name=NAME,
        attribution=_ATTRIBUTION,
        installed=asr_ready,
        description=f"revoice speech to text ({settings.asr.engine})",
        version=__version__,
        models=models,
        supports_transcript_streaming=True,
    )
    ready = {v.engine for v in catalogue if _engine_ready(v.engine, "tts", broken)}
    tts = TtsProgram(
        name=NAME,
        attribution=_ATTRIBUTION,
        installed=bool(ready),
        description="revoice text to speech",
        version=__version__,
        voices=[_voice(v, v.engine in ready) for v in catalogue],
        supports_synthesize_streaming=True,
    )
    return Info(asr=[asr], tts=[tts])
