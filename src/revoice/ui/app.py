"""The voice-to-voice web page: record or upload, pick a voice, hear it back as it is made.

Only glue lives here: each handler decodes its own request's audio, calls the shared
`Pipeline`, and hands numpy audio back to Gradio, which stores every result under a unique
name. Nothing is written to a shared file, so users never see each other's data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr
import numpy as np

from revoice import codecs
from revoice.audio import Audio
from revoice.errors import RevoiceError
from revoice.pipeline import Pipeline, TextMode
from revoice.types import SynthesisOptions
from revoice.ui.voice_maker import build_voice_maker

TITLE = "revoice: voice to voice"
#: the page's text-step choices and the pipeline mode each one means
STEPS: dict[str, TextMode] = {"transcribe": "none", "translate": "translate", "reply": "reply"}
LANGUAGES = [("detect", "auto"), ("English", "en"), ("Hindi", "hi")]


def _gradio_audio(audio: Audio) -> tuple[int, np.ndarray]:
    return audio.sample_rate, audio.to_int16()


def _user_error(exc: RevoiceError) -> gr.Error:
    return gr.Error(str(exc), print_exception=False)


class Handlers:
    """The page's callbacks, bound to one pipeline."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def convert(
        self,
        recording: str | None,
        voice: str,
        language: str,
        step: str,
        speed: float,
        instruction: str = "",
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        """Transcript and text first, then speech chunk by chunk, then the whole file."""
        if not recording:
            raise gr.Error("Record something or upload an audio file first.", print_exception=False)
        mode = STEPS.get(step)
        if mode is None:
            raise gr.Error(f"Unknown text step {step!r}.", print_exception=False)
        try:
            audio = codecs.decode(
                recording, max_seconds=self.pipeline.settings.limits.max_audio_seconds
            )
            if mode != "reply" and not instruction.strip():
                yield from self._live(audio, voice, language, mode, speed)
                return
            conversion = self.pipeline.convert(
                audio,
                voice,
                language=None if language == "auto" else language,
                speed=speed,
                mode=mode,
                instruction=instruction,
            )
            if not conversion.transcript.text:
                raise gr.Error("No speech was found in the recording.", print_exception=False)
            yield conversion.transcript.text, None, None, conversion.text
            yield from self._stream(conversion.speech, conversion.transcript.text, conversion.text)
        except RevoiceError as exc:
            raise _user_error(exc) from None

    def _live(
        self, audio: Audio, voice: str, language: str, mode: TextMode, speed: float
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        """Say each sentence as soon as it is heard, while the rest is still transcribed."""
        live = self.pipeline.convert_live(
            audio,
            voice,
            language=None if language == "auto" else language,
            task="translate" if mode == "translate" else "transcribe",
            speed=speed,
        )
        chunks: list[Audio] = []
        for event in live.events():
            if isinstance(event, Audio):
                chunks.append(event)
                yield gr.skip(), _gradio_audio(event), gr.skip(), gr.skip()
            else:
                text = live.transcript.text
                yield text, gr.skip(), gr.skip(), text
        text = live.transcript.text
        if not text:
            raise gr.Error("No speech was found in the recording.", print_exception=False)
        whole = _gradio_audio(Audio.concat(chunks)) if chunks else None
        yield text, gr.skip(), whole, text

    def speak(self, text: str, voice: str, speed: float) -> Iterator[tuple[Any, Any, Any, Any]]:
        """Speak the (edited) text again."""
        if not text or not any(ch.isalnum() for ch in text):
            raise gr.Error("There is no text to speak.", print_exception=False)
        limit = self.pipeline.settings.limits.max_text_chars
        if len(text) > limit:
            raise gr.Error(f"The text is longer than {limit} characters.", print_exception=False)
        try:
            speech = self.pipeline.speak(text, voice, SynthesisOptions(speed=speed))
            yield gr.skip(), None, None, gr.skip()
            yield from self._stream(speech, gr.skip(), text)
        except RevoiceError as exc:
            raise _user_error(exc) from None

    @staticmethod
    def _stream(
        speech: Iterator[Audio], transcript: Any, text: Any
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        """Each chunk to the live player; last, every output in full (API callers get the
        final values only)."""
        chunks: list[Audio] = []
        for chunk in speech:
            chunks.append(chunk)
            yield gr.skip(), _gradio_audio(chunk), gr.skip(), gr.skip()
        if chunks:
            yield transcript, gr.skip(), _gradio_audio(Audio.concat(chunks)), text


def build_ui(pipeline: Pipeline) -> gr.Blocks:
    handlers = Handlers(pipeline)
    choices = [(f"{v.id}: {v.description}", v.id) for v in pipeline.catalogue]
    # uploads and results older than an hour are deleted (checked every 30 minutes)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        gr.Markdown(
            f"# {TITLE}\nRecord your voice (or upload a file), choose a voice, and hear your "
            "words spoken again. Everything runs on this server, offline."
        )
        with gr.Row():
            with gr.Column():
                recording = gr.Audio(
                    sources=["microphone", "upload"],
                    type="filepath",
                    label="Your voice",
                    elem_id="recording",
                )
                voice = gr.Dropdown(
                    choices=choices,
                    value=pipeline.settings.default_voice,
                    label="Voice",
                    elem_id="voice",
                )
                with gr.Row():
                    language = gr.Dropdown(
                        choices=LANGUAGES,
                        value="auto",
                        label="Spoken language",
                        elem_id="language",
                    )
                    step = gr.Radio(
                        [
                            ("say what I said", "transcribe"),
                            ("say it in English", "translate"),
                            ("reply to me", "reply"),
                        ],
                        value="transcribe",
                        label="Text step",
                        elem_id="step",
                    )
                instruction = gr.Textbox(
                    label="Instruction (optional)",
                    placeholder="e.g. summarise, make it formal",
                    elem_id="instruction",
                )
                speed = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed")
                convert = gr.Button("Convert", variant="primary", elem_id="convert")
            with gr.Column():
                transcript = gr.Textbox(
                    label="You said", lines=3, interactive=False, elem_id="transcript"
                )
                spoken = gr.Textbox(
                    label="Spoken text (edit it and press Speak again)",
                    lines=4,
                    interactive=True,
                    elem_id="spoken",
                )
                live = gr.Audio(
                    label="New speech",
                    streaming=True,
                    autoplay=True,
                    interactive=False,
                    elem_id="speech",
                )
                full = gr.Audio(
                    label="Whole recording (download)",
                    interactive=False,
                    type="numpy",
                    format="wav",
                    elem_id="download",
                )
                again = gr.Button("Speak again", elem_id="speak-again")
        outputs = [transcript, live, full, spoken]
        convert.click(
            handlers.convert,
            [recording, voice, language, step, speed, instruction],
            outputs,
            api_name="convert",
        )
        again.click(handlers.speak, [spoken, voice, speed], outputs, api_name="speak")
        build_voice_maker(pipeline, voice)
    refuse_urls(demo)
    return demo


URL_REFUSED = "revoice does not fetch audio from a URL: upload the file or record it on the page"


def _refuse_url(path: object) -> None:
    from gradio_client.utils import is_http_url_like  # type: ignore[import-untyped]

    if path is not None and is_http_url_like(str(path)):
        raise gr.Error(URL_REFUSED, print_exception=False)


def refuse_urls(demo: gr.Blocks) -> None:
    """Make every component of the page refuse inputs given as URLs.

    Gradio's API accepts a file input as `{"path": "https://..."}` and would download it on
    the server (SSRF-filtered, but still a fetch on a stranger's behalf). revoice only takes
    uploaded bytes, so each block's cache move refuses URLs before anything is fetched.
    """
    for block in demo.blocks.values():
        sync_move = block.move_resource_to_block_cache
        async_move = block.async_move_resource_to_block_cache

        def guarded_sync(path: Any, _move: Any = sync_move) -> Any:
            _refuse_url(path)
            return _move(path)

        async def guarded_async(path: Any, _move: Any = async_move) -> Any:
            _refuse_url(path)
            return await _move(path)

        setattr(block, "move_resource_to_block_cache", guarded_sync)  # noqa: B010
        setattr(block, "async_move_resource_to_block_cache", guarded_async)  # noqa: B010
