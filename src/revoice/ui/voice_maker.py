"""The page's "make your own voice" panel: sliders, preview, save, delete, sound like me."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import gradio as gr

from revoice import codecs
from revoice.audio import Audio
from revoice.effects import Effects
from revoice.errors import RevoiceError, VoiceExists
from revoice.pipeline import Pipeline
from revoice.types import FORMANT, PITCH, SPEED, VOLUME, Range
from revoice.voices import controls_of, preview_text
from revoice.workshop import Workshop


def voice_choices(pipeline: Pipeline) -> list[tuple[str, str]]:
    """The voice dropdowns' choices: every catalogue voice, as `id: description`."""
    return [(f"{v.id}: {v.description}", v.id) for v in pipeline.catalogue]


def _own(pipeline: Pipeline) -> list[str]:
    return [v.id for v in pipeline.catalogue if v.source == "user"]


def refresh_voices(pipeline: Pipeline, chosen: str | None) -> Any:
    """The main voice dropdown with today's catalogue (voices saved by the CLI, the API or
    another page included); a chosen voice that is gone falls back to the default voice."""
    keep = chosen if chosen and chosen in pipeline.catalogue else pipeline.settings.default_voice
    return gr.update(choices=voice_choices(pipeline), value=keep)


def follow_catalogue(
    demo: gr.Blocks,
    dropdown: gr.Dropdown,
    choices: Callable[[], list[Any]],
    fallback: Callable[[], str | None],
) -> None:
    """Keep `dropdown` in step with voices saved or removed elsewhere (the CLI, the API,
    another page, an editor): on the page's load, on opening the list and on closing it.

    Gradio 6.31 draws an open list from the option indices it computed for the old choices, so
    an open list that loses entries throws in the browser ("Cannot read properties of
    undefined"). While the list is open only a list that did not shrink is applied; a removal
    waits until the list closes. A chosen voice that is gone falls back to `fallback()`, and the
    page says so."""
    shown = gr.State(None)  # the choices this page was last given

    def values(listed: list[Any]) -> list[Any]:
        return [c[1] if isinstance(c, tuple) else c for c in listed]

    def update(chosen: str | None, had: list[Any] | None, opened: bool) -> tuple[Any, Any]:
        now = choices()
        stands = chosen is None or chosen in values(now)
        if now == had and stands:
            # nothing new: leave the dropdown alone (the user may be picking a voice while this
            # answer is on its way, and that choice must stand)
            return gr.skip(), gr.skip()
        if opened and had is not None and len(now) < len(had):
            return gr.skip(), gr.skip()  # applied when the list closes
        if stands:
            # the value is not sent back: `chosen` may be stale (read as the user picked
            # another voice), and sending it would undo their pick
            return gr.update(choices=now), now
        keep = fallback()
        gone = f"The voice {chosen} is no longer there (removed elsewhere)"
        gr.Info(f"{gone}: now {keep}." if keep else f"{gone}.")
        return gr.update(choices=now, value=keep), now

    for event, opened in ((demo.load, False), (dropdown.focus, True), (dropdown.blur, False)):
        event(
            lambda chosen, had, opened=opened: update(chosen, had, opened),
            [dropdown, shown],
            [dropdown, shown],
            show_progress="hidden",
            api_visibility="private",
        )


#: what the panel's status says when a voice of that name exists and Replace is not ticked
EXISTS = "You already have a voice **{id}**: tick *Replace it if it exists* to save over it."


def _problem(message: str) -> str:
    """A mistake in the panel, said in the panel (and as a notice), never on the main controls."""
    gr.Warning(message, title="Make your own voice")
    return f"**Not done:** {message}"


class VoiceMaker:
    """The panel's callbacks. Their mistakes land in the panel's status line: the main voice
    dropdown, an output of save and delete, is left as it was."""

    def __init__(self, workshop: Workshop) -> None:
        self.workshop = workshop
        self.pipeline = workshop.pipeline

    def preview(
        self, base: str, pitch: float, formant: float, speed: float, volume: float, text: str
    ) -> tuple[int, Any]:
        """Hear the settings before saving them."""
        try:
            parent = self.pipeline.voice(base)
            # validates; on top of the voice's own controls, as a saved voice is
            controls = Effects(pitch=pitch, formant=formant, volume=volume).on(controls_of(parent))
            trial = replace(
                parent,
                pitch=controls.pitch,
                formant=controls.formant,
                volume=controls.volume,
                speed=parent.speed * speed,
            )
            audio = Audio.concat(self.pipeline.speak(text or preview_text(trial), trial))
        except RevoiceError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return audio.sample_rate, audio.to_int16()

    def save(
        self,
        name: str,
        base: str,
        pitch: float,
        formant: float,
        speed: float,
        volume: float,
        overwrite: bool = False,
    ) -> tuple[str, Any, Any]:
        voice_id = (name or "").strip()
        if not voice_id:
            return self._failed("Name your voice first.")
        try:
            parent = self.pipeline.voice(base)
            voice = self.workshop.add_voice(
                voice_id,
                {
                    "voice": parent.id,
                    "pitch": pitch,
                    "formant": formant,
                    "volume": volume,
                    "speed": round(parent.speed * speed, 3),
                },
                overwrite=bool(overwrite),
            )
        except VoiceExists:
            return self._failed(EXISTS.format(id=voice_id))
        except RevoiceError as exc:
            return self._failed(str(exc))
        return (f"Saved **{voice.id}**: use it like any voice.", *self._updates(voice.id))

    def delete(self, name: str | None, chosen: str | None = None) -> tuple[str, Any, Any]:
        """Delete one of your voices; the main dropdown falls back to the default voice when it
        held the deleted one."""
        if not name:
            return self._failed("Choose one of your voices (under *Your voices*) to delete.")
        try:
            self.workshop.remove_voice(name)
        except RevoiceError as exc:
            return self._failed(str(exc))
        return (f"Deleted **{name}**.", *self._updates(chosen))

    def like_me(
        self, recording: str | None, name: str, overwrite: bool = False
    ) -> tuple[str, Any, Any]:
        if not recording:
            return self._failed("Record or upload a few seconds of your voice.")
        voice_id = (name or "").strip() or None
        if voice_id and not overwrite and voice_id in _own(self.pipeline):
            return self._failed(EXISTS.format(id=voice_id))  # before the long matching
        try:
            audio = codecs.decode(recording, max_seconds=120)
            likeness, saved = self.workshop.like_me(audio, voice_id, overwrite=bool(overwrite))
        except VoiceExists:
            return self._failed(EXISTS.format(id=voice_id))
        except RevoiceError as exc:
            return self._failed(str(exc))
        message = (
            f"Nearest voice: **{likeness.voice}** (similarity {likeness.similarity:.2f});"
            f" your pitch {likeness.user_f0:.0f} Hz, shift {likeness.pitch:+.1f} "
            "semitones."
        )
        if likeness.caution:
            message += f" That is {likeness.caution}."
        if saved:
            message += f" Saved as **{saved.id}**."
            return (message, *self._updates(saved.id))
        return message, gr.skip(), gr.skip()

    @staticmethod
    def _failed(message: str) -> tuple[str, Any, Any]:
        return _problem(message), gr.skip(), gr.skip()

    def _updates(self, selected: str | None) -> tuple[Any, Any]:
        """New choices for the page's voice dropdown (holding `selected`, or the default
        voice when that is gone) and for the delete dropdown."""
        main = refresh_voices(self.pipeline, selected)
        return main, gr.update(choices=_own(self.pipeline), value=None)


def _slider(control: Range, value: float, step: float, label: str, **kwargs: Any) -> gr.Slider:
    """A slider over a voice control's whole range (the same range every door takes)."""
    return gr.Slider(control.low, control.high, value=value, step=step, label=label, **kwargs)


def build_voice_maker(demo: gr.Blocks, workshop: Workshop, voice_dropdown: gr.Dropdown) -> None:
    """The panel, placed inside the caller's Blocks; saving updates `voice_dropdown`."""
    maker = VoiceMaker(workshop)
    pipeline = workshop.pipeline
    with gr.Accordion("Make your own voice", open=False, elem_id="voice-maker"):
        with gr.Row():
            with gr.Column():
                base = gr.Dropdown(
                    choices=voice_choices(pipeline),
                    value="english-female",
                    label="Start from",
                    elem_id="maker-base",
                )
                pitch = _slider(PITCH, 0, 0.5, "Pitch (semitones)", elem_id="maker-pitch")
                formant = _slider(
                    FORMANT,
                    1.0,
                    0.01,
                    "Formant (< 1 deeper, > 1 brighter)",
                    elem_id="maker-formant",
                )
                speed = _slider(SPEED, 1.0, 0.05, "Speed")
                volume = _slider(VOLUME, 0, 1, "Volume (dB)")
                text = gr.Textbox(label="Preview text", placeholder="a sample sentence")
                preview_button = gr.Button("Preview", elem_id="maker-preview")
                sample = gr.Audio(label="Preview", interactive=False, autoplay=True)
            with gr.Column():
                name = gr.Textbox(
                    label="Name your voice", placeholder="my-voice", elem_id="maker-name"
                )
                overwrite = gr.Checkbox(
                    False, label="Replace it if it exists", elem_id="maker-replace"
                )
                save_button = gr.Button("Save voice", variant="primary", elem_id="maker-save")
                own = gr.Dropdown(choices=_own(pipeline), label="Your voices", elem_id="maker-own")
                delete_button = gr.Button("Delete voice", elem_id="maker-delete")
                gr.Markdown(
                    "**Sound like me**: record a few seconds; revoice picks the nearest "
                    "shipped voice and matches your pitch (saved under the name above)."
                )
                mine = gr.Audio(
                    sources=["microphone", "upload"], type="filepath", label="Your voice sample"
                )
                like_button = gr.Button("Find my voice", elem_id="maker-like-me")
                status = gr.Markdown(elem_id="maker-status")
        controls = [base, pitch, formant, speed, volume]
        changed = [status, voice_dropdown, own]
        preview_button.click(maker.preview, [*controls, text], sample, api_name="preview_voice")
        save_button.click(
            maker.save,
            [name, *controls, overwrite],
            changed,
            api_name="save_voice",
            show_progress_on=[status],
        )
        delete_button.click(
            maker.delete,
            [own, voice_dropdown],
            changed,
            api_name="delete_voice",
            show_progress_on=[status],
        )
        like_button.click(
            maker.like_me,
            [mine, name, overwrite],
            changed,
            api_name="like_me",
            show_progress_on=[status],
        )
        # voices saved or removed elsewhere (CLI, API, another page) show in each list
        follow_catalogue(
            demo, base, lambda: voice_choices(pipeline), lambda: pipeline.settings.default_voice
        )
        follow_catalogue(demo, own, lambda: _own(pipeline), lambda: None)
