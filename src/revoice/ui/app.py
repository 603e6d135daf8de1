"""The voice-to-voice web page: record or upload, pick a voice, hear it back as it is made.

Only glue lives here: each handler decodes its own request's audio, calls the shared
`Pipeline`, and hands numpy audio back to Gradio, which stores every result under a unique
name. Nothing is written to a shared file, so users never see each other's data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr
import numpy as np

from revoice import codecs, storage
from revoice.audio import Audio
from revoice.errors import RevoiceError, UnknownVoice
from revoice.pipeline import ConversionOptions, Pipeline, TextMode
from revoice.types import SPEED, SynthesisOptions, Task
from revoice.ui.live import build_live
from revoice.ui.voice_maker import build_voice_maker, follow_catalogue, voice_choices
from revoice.workshop import Workshop

TITLE = "revoice: voice to voice"
#: the page's text-step choices and the pipeline mode each one means
STEPS: dict[str, TextMode] = {"transcribe": "none", "translate": "translate", "reply": "reply"}
LANGUAGES = [("detect", "auto"), ("English", "en"), ("Hindi", "hi")]
log = logging.getLogger(__name__)
#: the transcript box's label, as said and in translate mode (Whisper's English, not yours)
HEARD = "You said"
HEARD_TRANSLATED = "You said, translated to English"
READY = "Record or upload your voice, then press **Convert**."
#: (stage for the page's status line, transcript, live chunk, whole file, spoken text)
Step = tuple[Any, Any, Any, Any, Any]


def _gradio_audio(audio: Audio) -> tuple[int, np.ndarray]:
    return audio.sample_rate, audio.to_int16()


def _user_error(exc: RevoiceError) -> gr.Error:
    if isinstance(exc, UnknownVoice):  # the whole catalogue would fill the screen
        return gr.Error(
            f"unknown voice {exc.name!r}: choose one from the Voice list.",
            print_exception=False,
        )
    return gr.Error(str(exc), print_exception=False)


def _for_api(steps: Iterator[Step]) -> tuple[Any, Any, Any, Any]:
    """The four outputs of the API's /convert and /speak (no status line), once, when the run
    is done; errors raise.

    An API caller reads the answer, it does not listen to a player: the speech comes whole,
    in both audio outputs. The chunks the page streams to its player are not sent (Gradio
    would encode each one and write it to its cache for nobody), and neither are the stages
    in between: each would be one more message for the client to parse, and gradio_client
    downloads the files of the last message a second time when the run completes."""
    skip = gr.skip()
    transcript = whole = text = None
    for _stage, heard, _chunk, audio, spoken in steps:
        transcript = transcript if heard == skip else heard
        whole = whole if audio == skip else audio
        text = text if spoken == skip else spoken
    return transcript, whole, whole, text


def _status(text: str, error: bool = False) -> Any:
    return gr.update(value=text, elem_classes=["status-error"] if error else [])


def _for_page(steps: Iterator[Step], heard: str | None) -> Iterator[Step]:
    """The page's view of a run: every stage in the status line; an error there alone, with
    the outputs left empty (no "Error" stamped on each box)."""
    if heard is None:  # speak again: the transcript and the edited text stay
        yield _status("Starting..."), gr.skip(), None, None, gr.skip()
    else:
        yield _status("Starting..."), gr.update(value="", label=heard), None, None, ""
    try:
        for stage, *outputs in steps:
            yield (gr.skip() if stage is None else _status(stage), *outputs)
    except gr.Error as exc:
        yield _status(f"**Error:** {exc.message}", error=True), *[gr.skip()] * 4
    except Exception:
        log.exception("the page's request failed")
        yield (
            _status("**Error:** something went wrong on the server (its log says what).", True),
            *[gr.skip()] * 4,
        )


class Handlers:
    """The page's callbacks, bound to one pipeline. `convert` and `speak` are the API's
    endpoints (four outputs, errors raised); `page_convert` and `page_speak` drive the page
    (a status line first, errors shown there)."""

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
    ) -> tuple[Any, Any, Any, Any]:
        """The transcript, the speech (twice: the API's two audio outputs) and the text."""
        return _for_api(self._convert(recording, voice, language, step, speed, instruction))

    def page_convert(
        self,
        recording: str | None,
        voice: str,
        language: str,
        step: str,
        speed: float,
        instruction: str = "",
    ) -> Iterator[Step]:
        heard = HEARD_TRANSLATED if step == "translate" else HEARD
        steps = self._convert(recording, voice, language, step, speed, instruction)
        yield from _for_page(steps, heard)

    def speak(self, text: str, voice: str, speed: float) -> tuple[Any, Any, Any, Any]:
        """Speak the (edited) text again."""
        return _for_api(self._speak(text, voice, speed))

    def page_speak(self, text: str, voice: str, speed: float) -> Iterator[Step]:
        yield from _for_page(self._speak(text, voice, speed), None)

    def _convert(
        self,
        recording: str | None,
        voice: str,
        language: str,
        step: str,
        speed: float,
        instruction: str,
    ) -> Iterator[Step]:
        if not recording:
            raise gr.Error("Record something or upload an audio file first.", print_exception=False)
        mode = STEPS.get(step)
        if mode is None:
            raise gr.Error(f"Unknown text step {step!r}.", print_exception=False)
        try:
            audio = codecs.decode(
                recording, max_seconds=self.pipeline.settings.limits.max_audio_seconds
            )
            _room_for(audio.duration)
            options = ConversionOptions(
                voice,
                None if language == "auto" else language,
                mode=mode,
                instruction=instruction,
                speed=speed,
            )
            if options.as_heard:
                yield from self._live(audio, options, detected=language == "auto")
                return
            if not any(m.startswith("text:") for m in self.pipeline.models.loaded()):
                yield (
                    "Getting the text model ready (the first time takes a while)...",
                    *[gr.skip()] * 4,
                )
            self.pipeline.models.text()  # loaded under its own status line, or fails here
            yield _hearing(options.task), *[gr.skip()] * 4
            # the transcript first, shown while the text model thinks (the text step runs
            # when the conversion's text is first asked for)
            conversion = self.pipeline.conversion(audio, options, streamed=False)
            transcript = conversion.transcript.text
            if not transcript:
                raise gr.Error("No speech was found in the recording.", print_exception=False)
            thinking = "Thinking of a reply..." if options.mode == "reply" else "Rewriting it..."
            yield thinking, transcript, gr.skip(), gr.skip(), gr.skip()
            text = conversion.text
            if not text.strip():
                raise gr.Error("The text model gave no words to say.", print_exception=False)
            yield "Speaking...", gr.skip(), gr.skip(), gr.skip(), text
            done = _done(conversion.transcript.language, detected=language == "auto")
            yield from self._stream(conversion.speech, transcript, text, done)
        except RevoiceError as exc:
            raise _user_error(exc) from None

    def _live(self, audio: Audio, options: ConversionOptions, detected: bool) -> Iterator[Step]:
        """Say each sentence as soon as it is heard, while the rest is still transcribed."""
        yield _hearing(options.task), *[gr.skip()] * 4
        live = self.pipeline.conversion(audio, options)
        chunks: list[Audio] = []
        for event in live.events():
            if isinstance(event, Audio):
                stage = None if chunks else "Speaking (and still listening to the rest)..."
                chunks.append(event)
                yield stage, gr.skip(), _gradio_audio(event), gr.skip(), gr.skip()
            else:
                text = live.transcript.text
                yield None, text, gr.skip(), gr.skip(), text
        text = live.transcript.text
        if not text:
            raise gr.Error("No speech was found in the recording.", print_exception=False)
        whole = _gradio_audio(Audio.concat(chunks)) if chunks else None
        done = _done(live.transcript.language, detected=detected)
        yield done, text, gr.skip(), whole, text

    def _speak(self, text: str, voice: str, speed: float) -> Iterator[Step]:
        if not text or not any(ch.isalnum() for ch in text):
            raise gr.Error("There is no text to speak.", print_exception=False)
        limit = self.pipeline.settings.limits.max_text_chars
        if len(text) > limit:
            raise gr.Error(f"The text is longer than {limit} characters.", print_exception=False)
        try:
            _room_for(len(text) / _CHARS_PER_SECOND)
            speech = self.pipeline.speak(text, voice, SynthesisOptions(speed=speed))
            yield "Speaking...", gr.skip(), None, None, gr.skip()
            yield from self._stream(speech, gr.skip(), text, "Done.")
        except RevoiceError as exc:
            raise _user_error(exc) from None

    @staticmethod
    def _stream(speech: Iterator[Audio], transcript: Any, text: Any, done: str) -> Iterator[Step]:
        """Each chunk to the live player; last, every output in full (API callers get the
        final values only)."""
        chunks: list[Audio] = []
        for chunk in speech:
            chunks.append(chunk)
            yield None, gr.skip(), _gradio_audio(chunk), gr.skip(), gr.skip()
        if chunks:
            yield done, transcript, gr.skip(), _gradio_audio(Audio.concat(chunks)), text


def _hearing(task: Task) -> str:
    if task == "translate":
        return "Transcribing and translating to English..."
    return "Transcribing..."


def _done(language: str | None, detected: bool = False) -> str:
    """The last status line; when the language was detected and it is none the page's voices
    speak, what to do (Whisper's language ID often mistakes accented Hindi for another)."""
    if not language:
        return "Done."
    done = f"Done (heard language: {language})."
    if detected and language not in dict(LANGUAGES).values():
        names = " or ".join(name for name, code in LANGUAGES if code != "auto")
        done += (
            f" If you spoke {names}, choose it under **Language** and convert again: "
            "the language is guessed wrongly on some accents."
        )
    return done


#: the page's own styles (given to Gradio's mount in server.py)
PAGE_CSS = """
#status.status-error, #status.status-error * { color: var(--error-text-color, #b91c1c) !important; }
/* a dropdown's text stops before its caret (the caret sits over the input's right end) */
input[role="combobox"] { padding-right: 28px !important; text-overflow: ellipsis; }
"""

#: on a narrow screen the results are below the controls: bring the status line to the top
#: as the button is pressed (the inputs go on to the server unchanged)
_SHOW_RESULTS_JS = """
(...inputs) => {
    const status = document.getElementById("status");
    if (status && window.innerWidth < 768) {
        status.scrollIntoView({ block: "start" });
    }
    return inputs;
}
"""


def build_ui(pipeline: Pipeline, workshop: Workshop | None = None) -> gr.Blocks:
    handlers = Handlers(pipeline)
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
                    choices=voice_choices(pipeline),
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
                speed = gr.Slider(
                    SPEED.low, SPEED.high, value=1.0, step=0.05, label="Speed", elem_id="speed"
                )
                convert = gr.Button("Convert", variant="primary", elem_id="convert")
                build_live(voice, language, step, instruction, speed, STEPS)
            with gr.Column():
                status = gr.Markdown(READY, elem_id="status")
                transcript = gr.Textbox(
                    label=HEARD, lines=3, interactive=False, elem_id="transcript"
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
                    label="Revoiced recording (download)",
                    interactive=False,
                    type="numpy",
                    format="wav",
                    elem_id="download",
                )
                again = gr.Button("Speak again", elem_id="speak-again")
        outputs = [transcript, live, full, spoken]
        inputs = [recording, voice, language, step, speed, instruction]
        # the page's buttons: a status line with the stage (or the one error), progress there
        convert.click(
            handlers.page_convert,
            inputs,
            [status, *outputs],
            show_progress_on=[status],
            api_visibility="private",
            js=_SHOW_RESULTS_JS,
        )
        again.click(
            handlers.page_speak,
            [spoken, voice, speed],
            [status, *outputs],
            show_progress_on=[status],
            api_visibility="private",
            js=_SHOW_RESULTS_JS,
        )
        # the API's /convert and /speak (gradio_client): the four outputs, errors raised
        # (the second output is the whole speech too: no stream for a caller that reads it)
        api_speech = gr.Audio(visible=False, type="numpy", format="wav", interactive=False)
        api_outputs = [transcript, api_speech, full, spoken]
        api_convert = gr.Button(visible=False, elem_id="api-convert")
        api_convert.click(handlers.convert, inputs, api_outputs, api_name="convert")
        api_speak = gr.Button(visible=False, elem_id="api-speak")
        api_speak.click(handlers.speak, [spoken, voice, speed], api_outputs, api_name="speak")
        build_voice_maker(demo, workshop or Workshop(pipeline), voice)
        # voices saved or removed elsewhere (CLI, API, another page) show in the list
        follow_catalogue(
            demo, voice, lambda: voice_choices(pipeline), lambda: pipeline.settings.default_voice
        )
    refuse_urls(demo)
    return demo


#: a generous speaking rate, to size the page's audio files before they are made
_CHARS_PER_SECOND = 10.0


def _room_for(seconds: float) -> None:
    """Refuse up front when the page cache cannot hold the outputs of `seconds` of speech:
    the live chunks and the whole file, 16-bit at up to 48 kHz, with room to spare."""
    need = int(max(seconds, 10.0) * 48_000 * 2 * 3)
    storage.ensure_room(storage.page_cache_dir(), need, "the audio this would make")


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
