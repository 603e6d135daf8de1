"""/v1/audio: transcriptions, translations, speech, and our voice-to-voice extension."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from revoice import codecs, registry
from revoice import text as textsplit
from revoice.api.deps import Runtime, read_upload, runtime
from revoice.api.live import LiveEvents
from revoice.api.routes.catalog import asr_model_ids
from revoice.api.schemas import SpeechRequest, VoiceToVoiceJSON
from revoice.api.streaming import AudioStream
from revoice.asr.base import TranscriptStream
from revoice.audio import Audio
from revoice.errors import InputTooLarge, InvalidOption, UnknownModel
from revoice.pipeline import Conversion, ConversionOptions, TextMode
from revoice.transcripts import TEXT_FORMATS, render, to_verbose
from revoice.types import SPEED, SynthesisOptions, TranscribeOptions, Transcript, Voice

router = APIRouter(prefix="/audio", tags=["audio"])
RT = Annotated[Runtime, Depends(runtime)]
TEXT_MODE_NAMES: dict[str, TextMode] = {"none": "none", "translate": "translate", "reply": "reply"}
_TEXT_MEDIA = {"text": "text/plain", "srt": "application/x-subrip", "vtt": "text/vtt"}
_SUBTITLES = ("srt", "vtt")


def asr_model(rt: Runtime, name: str | None) -> str | None:
    """OpenAI's model names mean the configured default; other names must be ones `/v1/models`
    lists (shipped or configured): a client never makes the server load a path it names, and
    never learns whether a server directory exists."""
    if not name or name in registry.ASR_ALIASES:
        return None
    if name not in asr_model_ids(rt):
        raise UnknownModel(
            name,
            asr_model_ids(rt),
            "other models are chosen on the server: REVOICE_ASR__MODEL (a CTranslate2 "
            "directory or a model name; REVOICE_ASR__ALLOW_DOWNLOAD=true lets it be fetched)",
        )
    return name


async def decode_upload(rt: Runtime, file: UploadFile) -> Audio:
    data = await read_upload(file, rt.settings.limits.max_upload_bytes)
    seconds = rt.settings.limits.max_audio_seconds
    # decoding is recognition work: it waits its turn, so queued uploads hold no audio
    return await rt.run("asr", lambda: codecs.decode(data, max_seconds=seconds))


async def _transcription(
    rt: Runtime,
    file: UploadFile,
    model: str | None,
    options: TranscribeOptions,
    response_format: str,
    words: bool,
    stream: bool,
) -> Response:
    if response_format not in TEXT_FORMATS:
        raise InvalidOption(
            f"response_format must be one of: {', '.join(TEXT_FORMATS)}", "response_format"
        )
    audio = await decode_upload(rt, file)
    name = asr_model(rt, model)
    if stream:
        started: TranscriptStream = await rt.run(
            "asr", rt.pipeline.transcribe_stream, audio, options, name
        )
        return StreamingResponse(_sse(rt, started), media_type="text/event-stream")
    transcript: Transcript = await rt.run("asr", rt.pipeline.transcribe, audio, options, name)
    if response_format == "verbose_json":
        return JSONResponse(to_verbose(transcript, words=words))
    if response_format == "json":
        return JSONResponse({"text": transcript.text})
    return PlainTextResponse(
        render(transcript, response_format), media_type=_TEXT_MEDIA[response_format]
    )


async def _sse(rt: Runtime, started: TranscriptStream) -> AsyncIterator[str]:
    """OpenAI's transcription events: one text delta per decoded segment, then done."""
    texts: list[str] = []
    try:
        while (segment := await rt.run("asr", next, started.segments, None)) is not None:
            delta = segment.text if not texts else f" {segment.text}"
            texts.append(segment.text)
            event = {
                "type": "transcript.text.delta",
                "delta": delta,
                "segment": {"id": segment.id, "start": segment.start, "end": segment.end},
            }
            yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
        done = {
            "type": "transcript.text.done",
            "text": " ".join(texts).strip(),
            "language": started.language,
            "duration": started.duration,
        }
        yield f"data: {json.dumps(done, ensure_ascii=False)}\n\n"
    finally:
        close = getattr(started.segments, "close", None)
        if close is not None:
            close()


TranscriptionForm = Annotated[UploadFile, File(description="the audio file")]


@router.post("/transcriptions")
async def transcriptions(
    rt: RT,
    file: TranscriptionForm,
    model: Annotated[str, Form()] = "whisper-1",
    language: Annotated[str | None, Form()] = None,
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[str, Form()] = "json",
    temperature: Annotated[float | None, Form()] = None,
    timestamp_granularities: Annotated[
        list[str] | None, Form(alias="timestamp_granularities[]")
    ] = None,
    stream: Annotated[bool, Form()] = False,
) -> Response:
    """Speech to text (OpenAI `audio.transcriptions.create`)."""
    granularities = set(timestamp_granularities or ())
    unknown = granularities - {"segment", "word"}
    if unknown:
        raise InvalidOption(
            "timestamp_granularities[] takes 'segment' and 'word'", "timestamp_granularities[]"
        )
    options = TranscribeOptions(
        language=language,
        prompt=prompt,
        temperature=temperature,
        # subtitles are cut to size at word times (revoice.transcripts.cues)
        word_timestamps="word" in granularities or response_format in _SUBTITLES,
    )
    return await _transcription(
        rt, file, model, options, response_format, "word" in granularities, stream
    )


@router.post("/translations")
async def translations(
    rt: RT,
    file: TranscriptionForm,
    model: Annotated[str, Form()] = "whisper-1",
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[str, Form()] = "json",
    temperature: Annotated[float | None, Form()] = None,
) -> Response:
    """Speech in any language to English text (OpenAI `audio.translations.create`)."""
    options = TranscribeOptions(
        task="translate",
        prompt=prompt,
        temperature=temperature,
        word_timestamps=response_format in _SUBTITLES,
    )
    return await _transcription(rt, file, model, options, response_format, False, False)


def _check_text(rt: Runtime, text: str) -> str:
    cleaned = textsplit.clean(text)
    if not any(ch.isalnum() for ch in cleaned):
        raise InvalidOption("input has nothing to say (no letters or digits)", "input")
    limit = rt.settings.limits.max_text_chars
    if len(cleaned) > limit:
        raise InputTooLarge(f"input is longer than the limit of {limit} characters", "input")
    return cleaned


async def _speech_stream(
    rt: Runtime, text: str, voice: Voice, speed: float | None, fmt: codecs.Format
) -> AudioStream:
    # through the Pipeline: a custom voice's pitch, formant and volume apply here too
    chunks = await rt.run(
        voice.engine, rt.pipeline.speak, text, voice, SynthesisOptions(speed=speed)
    )
    stream = AudioStream(rt, voice.engine, chunks, fmt, voice.sample_rate)
    await stream.prime()
    return stream


@router.post("/speech", response_class=StreamingResponse)
async def speech(rt: RT, request: SpeechRequest) -> StreamingResponse:
    """Text to speech (OpenAI `audio.speech.create`), streamed sentence by sentence."""
    if request.model not in registry.TTS_MODELS:
        raise UnknownModel(request.model, registry.TTS_MODELS)
    text = _check_text(rt, request.input)
    voice = rt.pipeline.voice(request.voice)
    fmt = codecs.get_format(request.response_format)
    stream = await _speech_stream(rt, text, voice, request.speed, fmt)
    headers = {"X-Revoice-Sample-Rate": str(fmt.rate_for(voice.sample_rate))}
    if request.stream_format == "sse":
        events = _speech_events(stream.body())
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    return StreamingResponse(stream.body(), media_type=fmt.mime, headers=headers)


async def _speech_events(body: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """OpenAI's speech events (`stream_format=sse`): the encoded audio in base64 deltas."""
    async for data in body:
        delta = {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")}
        yield f"data: {json.dumps(delta)}\n\n"
    usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    yield f"data: {json.dumps({'type': 'speech.audio.done', 'usage': usage})}\n\n"


@router.post("/voice-to-voice", response_model=VoiceToVoiceJSON)
async def voice_to_voice(
    rt: RT,
    file: TranscriptionForm,
    voice: Annotated[str | None, Form()] = None,
    language: Annotated[str | None, Form()] = None,
    task: Annotated[str, Form()] = "transcribe",
    response_format: Annotated[str, Form()] = "mp3",
    audio_format: Annotated[str, Form(description="audio format inside a json reply")] = "wav",
    speed: Annotated[float | None, Form(ge=SPEED.low, le=SPEED.high)] = None,
    model: Annotated[str | None, Form()] = None,
    mode: Annotated[str, Form(description="none | translate | reply")] = "none",
    instruction: Annotated[str | None, Form(description="e.g. 'summarise'")] = None,
    stream_format: Annotated[
        str, Form(description="audio (the speech itself) | sse (transcript and speech events)")
    ] = "audio",
) -> Any:
    """Our extension: a recording in, the same words in another voice out.

    The body is the new speech (streamed); the transcript is in the `X-Revoice-Transcript`
    header and the words spoken (after a `reply` or `instruction` text step) in
    `X-Revoice-Text` (UTF-8, percent-encoded). With `response_format=json` the reply is one
    JSON object with the audio in base64. With `stream_format=sse` the reply is a stream of
    events: transcript deltas and speech deltas as they are made (see `revoice.api.live`).
    """
    text_mode = TEXT_MODE_NAMES.get(mode)
    if text_mode is None:
        raise InvalidOption(f"mode must be one of: {', '.join(TEXT_MODE_NAMES)}", "mode")
    if stream_format not in ("audio", "sse"):
        raise InvalidOption("stream_format must be 'audio' or 'sse'", "stream_format")
    as_json = response_format == "json"
    if as_json and stream_format == "sse":
        raise InvalidOption(
            "stream_format=sse sends the speech in response_format (mp3, wav, ...), not json",
            "response_format",
        )
    try:
        fmt = codecs.get_format(audio_format if as_json else response_format)
    except InvalidOption as exc:
        exc.param = "audio_format" if as_json else "response_format"
        raise
    chosen = rt.pipeline.voice(voice)
    # checked before the upload is decoded
    options = ConversionOptions(
        chosen,
        language,
        task,  # type: ignore[arg-type]  # checked here: transcribe or translate
        text_mode,
        instruction,
        speed,
        asr_model(rt, model),
    )
    audio = await decode_upload(rt, file)
    streamed = stream_format == "sse"
    made = await rt.run("asr", lambda: rt.pipeline.conversion(audio, options, streamed=streamed))
    if streamed:  # each sentence said as it is heard, when there is no text step

        def summary() -> tuple[str, str, str]:
            return made.transcript.text, made.text, made.transcript.language

        write = (lambda: made.text) if options.text_step else None
        events = LiveEvents(rt, chosen, made.parts(), fmt, summary, write)
        await events.prime()
        return StreamingResponse(events.body(), media_type="text/event-stream")
    assert isinstance(made, Conversion)
    conversion = made
    transcript = conversion.transcript
    if options.text_step:  # the reply or rewrite, in a worker within the text model's limit
        await rt.run("text", lambda: conversion.text)
    if as_json:
        chunks: list[Audio] = await rt.run(chosen.engine, list, conversion.speech)
        whole = Audio.concat(chunks, chosen.sample_rate)
        data = await anyio.to_thread.run_sync(codecs.encode, whole, fmt)
        return VoiceToVoiceJSON(
            transcript=transcript.text,
            text=conversion.text,
            language=transcript.language,
            voice=chosen.id,
            format=fmt.name,
            sample_rate=fmt.rate_for(chosen.sample_rate),
            audio=base64.b64encode(data).decode("ascii"),
        )
    stream = AudioStream(rt, chosen.engine, conversion.speech, fmt, chosen.sample_rate)
    await stream.prime()
    headers = {
        "X-Revoice-Transcript": quote(transcript.text, safe=""),
        "X-Revoice-Text": quote(conversion.text, safe=""),
        "X-Revoice-Language": transcript.language,
        "X-Revoice-Voice": chosen.id,
        "X-Revoice-Sample-Rate": str(fmt.rate_for(chosen.sample_rate)),
    }
    return StreamingResponse(stream.body(), media_type=fmt.mime, headers=headers)
