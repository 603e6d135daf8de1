"""/v1/models and /v1/audio/voices: what this server can do, read from the registry."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from revoice import codecs, registry
from revoice.api.deps import Runtime, runtime
from revoice.api.schemas import (
    LikenessOut,
    ModelList,
    ModelOut,
    Named,
    SpeechModelList,
    VoiceCreate,
    VoiceList,
    VoiceOut,
)
from revoice.audio import Audio
from revoice.errors import InvalidOption, UnknownModel
from revoice.types import Voice
from revoice.voices import preview_text, voice_record

router = APIRouter(tags=["catalog"])
RT = Annotated[Runtime, Depends(runtime)]


def voice_out(voice: Voice) -> VoiceOut:
    return VoiceOut(**voice_record(voice))


@router.get("/audio/voices", response_model=VoiceList)
def list_voices(rt: RT) -> VoiceList:
    """Every voice: id, engine, languages, gender, sample rate, description (in `data`), and
    each voice's id and name in `voices`, the shape Open WebUI's voice list reads."""
    voices = list(rt.pipeline.catalogue)
    return VoiceList(
        data=[voice_out(v) for v in voices], voices=[Named(id=v.id, name=v.id) for v in voices]
    )


def _models(rt: Runtime) -> list[ModelOut]:
    default = rt.settings.asr.model
    shipped = registry.get(rt.settings.asr.engine, "asr").models
    asr = [
        ModelOut(
            id=name,
            kind="asr",
            description=f"Whisper {name} (shipped)" if name in shipped else "configured model",
        )
        for name in registry.asr_models(rt.settings.asr.engine, default)
    ]
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


def asr_model_ids(rt: Runtime) -> list[str]:
    """The speech-to-text model names a client may ask for."""
    return [m.id for m in _models(rt) if m.kind == "asr"]


@router.get("/models", response_model=ModelList)
def list_models(rt: RT) -> ModelList:
    return ModelList(data=_models(rt))


@router.get("/audio/models", response_model=SpeechModelList)
def list_speech_models(rt: RT) -> SpeechModelList:
    """The text-to-speech models (`model` of /v1/audio/speech), in OpenAI's list shape and in
    `models` (id and name), the shape Open WebUI's model list reads."""
    tts = [m for m in _models(rt) if m.kind == "tts"]
    return SpeechModelList(data=tts, models=[Named(id=m.id, name=m.id) for m in tts])


@router.get("/models/{model_id:path}", response_model=ModelOut)
def get_model(rt: RT, model_id: str) -> ModelOut:
    models = {m.id: m for m in _models(rt)}
    if model_id not in models:
        raise UnknownModel(model_id, models)
    return models[model_id]


@router.post("/audio/voices", response_model=VoiceOut, status_code=201)
async def create_voice(rt: RT, body: VoiceCreate) -> VoiceOut:
    """Save a custom voice (kept in the user's voices TOML, used like any preset)."""
    spec = body.model_dump(exclude={"id", "overwrite"}, exclude_none=True)
    voice = await anyio.to_thread.run_sync(
        lambda: rt.workshop.add_voice(body.id, spec, overwrite=body.overwrite)
    )
    return voice_out(voice)


@router.delete("/audio/voices/{voice_id:path}", status_code=204)
async def delete_voice(rt: RT, voice_id: str) -> Response:
    voice = rt.pipeline.voice(voice_id)
    if voice.source != "user" or voice.id != voice_id:
        raise InvalidOption(
            f"{voice_id!r} is a shipped voice; only your own can be deleted", "voice_id"
        )
    await anyio.to_thread.run_sync(rt.workshop.remove_voice, voice_id)
    return Response(status_code=204)


@router.post(
    "/audio/voices/like-me",
    response_model=LikenessOut,
)
async def like_me(
    rt: RT,
    file: Annotated[UploadFile, File(description="a few seconds of your voice")],
    id: Annotated[str | None, Form(description="save the result under this id")] = None,
    overwrite: Annotated[bool, Form(description="replace your voice of that id")] = False,
) -> LikenessOut:
    """The shipped voice nearest to your recording, with the pitch shift to match it."""
    from revoice.api.routes.audio import decode_upload

    audio = await decode_upload(rt, file)
    likeness, saved = await rt.run(
        "likeness", lambda: rt.workshop.like_me(audio, id, overwrite=overwrite)
    )
    return LikenessOut(
        voice=likeness.voice,
        similarity=likeness.similarity,
        user_f0=likeness.user_f0,
        voice_f0=likeness.voice_f0,
        pitch=likeness.pitch,
        scores=likeness.scores,
        poor_match=likeness.poor,
        saved=voice_out(saved) if saved else None,
    )


@router.get("/audio/voices/{voice_id:path}/preview")
async def preview(rt: RT, voice_id: str, response_format: str = "mp3") -> Response:
    """A short sample of a voice."""
    voice = rt.pipeline.voice(voice_id)
    fmt = codecs.get_format(response_format)
    chunks = await rt.run(voice.engine, lambda: list(rt.pipeline.speak(preview_text(voice), voice)))
    data = await anyio.to_thread.run_sync(codecs.encode, Audio.concat(chunks), fmt)
    return Response(data, media_type=fmt.mime)
