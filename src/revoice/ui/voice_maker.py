"""The page's "make your own voice" panel: sliders, preview, save, delete, sound like me."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

from revoice import codecs
from revoice.audio import Audio
from revoice.effects import Effects
from revoice.errors import RevoiceError
from revoice.pipeline import Pipeline
from revoice.voices import preview_text


def _choices(pipeline: Pipeline) -> list[tuple[str, str]]:
    return [(f"{v.id}: {v.description}", v.id) for v in pipeline.catalogue]


def _own(pipeline: Pipeline) -> list[str]:
    return [v.id for v in pipeline.catalogue if v.source == "user"]


class VoiceMaker:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def preview(
        self, base: str, pitch: float, formant: float, speed: float, volume: float, text: str
    ) -> tuple[int, Any]:
        """Hear the settings before saving them."""
        try:
            parent = self.pipeline.voice(base)
            Effects(pitch=pitch, formant=formant, volume=volume)  # validates
            trial = replace(
                parent, pitch=pitch, formant=formant, volume=volume, speed=parent.speed * speed
            )
            audio = Audio.concat(self.pipeline.speak(text or preview_text(trial), trial))
        except RevoiceError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return audio.sample_rate, audio.to_int16()

    def save(
        self, name: str, base: str, pitch: float, formant: float, speed: float, volume: float
    ) -> tuple[str, Any, Any]:
        try:
            parent = self.pipeline.voice(base)
            voice = self.pipeline.add_voice(
                name.strip(),
                {
                    "voice": parent.id,
                    "pitch": pitch,
                    "formant": formant,
                    "volume": volume,
                    "speed": round(parent.speed * speed, 3),
                },
                overwrite=True,  # the page's Save is "save as": it replaces your voice of that name
            )
        except RevoiceError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return (f"Saved **{voice.id}**: use it like any voice.", *self._updates(voice.id))

    def delete(self, name: str | None) -> tuple[str, Any, Any]:
        if not name:
            raise gr.Error("Choose one of your voices to delete.", print_exception=False)
        try:
            self.pipeline.remove_voice(name)
        except RevoiceError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return (f"Deleted **{name}**.", *self._updates(None))

    def like_me(self, recording: str | None, name: str) -> tuple[str, Any, Any]:
        if not recording:
            raise gr.Error("Record or upload a few seconds of your voice.", print_exception=False)
        try:
            audio = codecs.decode(recording, max_seconds=120)
            likeness, saved = self.pipeline.like_me(audio, name.strip() or None, overwrite=True)
        except RevoiceError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        message = (
            f"Nearest voice: **{likeness.voice}** (similarity {likeness.similarity:.2f});"
            f" your pitch {likeness.user_f0:.0f} Hz, shift {likeness.pitch:+.1f} "
            "semitones."
        )
        if saved:
            message += f" Saved as **{saved.id}**."
        return (message, *self._updates(saved.id if saved else None))

    def _updates(self, selected: str | None) -> tuple[Any, Any]:
        """New choices for the page's voice dropdown and the delete dropdown."""
        main = (
            gr.update(choices=_choices(self.pipeline), value=selected)
            if selected
            else gr.update(choices=_choices(self.pipeline))
        )
        return main, gr.update(choices=_own(self.pipeline), value=None)


def build_voice_maker(pipeline: Pipeline, voice_dropdown: gr.Dropdown) -> None:
    """The panel, placed inside the caller's Blocks; saving updates `voice_dropdown`."""
    maker = VoiceMaker(pipeline)
    with gr.Accordion("Make your own voice", open=False, elem_id="voice-maker"):
        with gr.Row():
            with gr.Column():
                base = gr.Dropdown(
                    choices=_choices(pipeline),
                    value="english-female",
                    label="Start from",
                    elem_id="maker-base",
                )
                pitch = gr.Slider(
                    -12, 12, value=0, step=0.5, label="Pitch (semitones)", elem_id="maker-pitch"
                )
                formant = gr.Slider(
                    0.7,
                    1.4,
                    value=1.0,
                    step=0.01,
                    label="Formant (< 1 deeper, > 1 brighter)",
                    elem_id="maker-formant",
                )
                speed = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed")
                volume = gr.Slider(-20, 10, value=0, step=1, label="Volume (dB)")
                text = gr.Textbox(label="Preview text", placeholder="a sample sentence")
                preview_button = gr.Button("Preview", elem_id="maker-preview")
                sample = gr.Audio(label="Preview", interactive=False, autoplay=True)
            with gr.Column():
                name = gr.Textbox(
                    label="Name your voice", placeholder="my-voice", elem_id="maker-name"
                )
                save_button = gr.Button("Save voice", variant="primary", elem_id="maker-save")
                own = gr.Dropdown(choices=_own(pipeline), label="Your voices", elem_id="maker-own")
                delete_button = gr.Button("Delete voice", elem_id="maker-delete")
                gr.Markdown(
                    "**Sound like me**: record a few seconds; revoice picks the nearest "
                    "shipped voice and matches your pitch."
                )
                mine = gr.Audio(
                    sources=["microphone", "upload"], type="filepath", label="Your voice sample"
                )
                like_button = gr.Button("Find my voice", elem_id="maker-like-me")
                status = gr.Markdown(elem_id="maker-status")
        controls = [base, pitch, formant, speed, volume]
        preview_button.click(maker.preview, [*controls, text], sample, api_name="preview_voice")
        save_button.click(
            maker.save, [name, *controls], [status, voice_dropdown, own], api_name="save_voice"
        )
        delete_button.click(
            maker.delete, [own], [status, voice_dropdown, own], api_name="delete_voice"
        )
        like_button.click(
            maker.like_me, [mine, name], [status, voice_dropdown, own], api_name="like_me"
        )
