"""/v1/models and /v1/audio/voices: what this server can do, read from the registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from revoice import registry
from revoice.api.deps import Runtime, runtime
from revoice.api.schemas import ModelList, ModelOut, VoiceList, VoiceOut
from revoice.asr.faster_whisper import SHIPPED
from revoice.errors import UnknownModel
from revoice.types import Voice

router = APIRouter(tags=["catalog"])
RT = Annotated[Runtime, Depends(runtime)]


def voice_out(voice: Voice) -> VoiceOut:
    return VoiceOut(
        id=voice.id,
        name=voice.id,
        engine=voice.engine,
        languages=list(voice.languages),
        gender=voice.gender,
        sample_rate=voice.sample_rate,
        description=voice.description,
        source=voice.source,
    )


@router.get("/audio/voices", response_model=VoiceList)
def list_voices(rt: RT) -> VoiceList:
    """Every voice: id, engine, languages, gender, sample rate, description."""
    return VoiceList(data=[voice_out(v) for v in rt.pipeline.catalogue])


def _models(rt: Runtime) -> list[ModelOut]:
    default = rt.settings.asr.model
    asr = [
        ModelOut(id=name, kind="asr", description=f"Whisper {name} (shipped)") for name in SHIPPED
    ]
    if default not in SHIPPED:
        asr.append(ModelOut(id=default, kind="asr", description="configured Whisper model"))
    asr += [
        ModelOut(id=alias, kind="asr", description=f"alias of {default}")
        for alias in registry.ASR_ALIASES
    ]
    tts = [
        ModelOut(id=e.name, kind="tts", description=e.description) for e in registry.engines("tts")
    ]
    tts += [
        ModelOut(id=alias, kind="tts", description="alias: the voice picks the engine")
        for alias in registry.TTS_MODELS
        if alias not in {e.name for e in registry.ENGINES}
    ]
    return asr + tts


@router.get("/models", response_model=ModelList)
def list_models(rt: RT) -> ModelList:
    return ModelList(data=_models(rt))


@router.get("/models/{model_id:path}", response_model=ModelOut)
def get_model(rt: RT, model_id: str) -> ModelOut:
    models = {m.id: m for m in _models(rt)}
    if model_id not in models:
        raise UnknownModel(model_id, models)
    return models[model_id]
