"""The page's live mode: press once and talk, hands free, through the `/v1/realtime` door.

The panel is a `gr.HTML` block. Its script (`live.js`, run by Gradio's `js_on_load`) opens a
WebSocket to this server's own `/v1/realtime` (when `REVOICE_API_KEY` is set, the page's
sign-in cookie goes with it), streams the microphone as pcm16 at 24 kHz from an AudioWorklet
(`live_worklet.js`: the browser's echo cancellation on, resampled in JS from the context's
rate), shows the transcript as it grows, and plays each answer chunk by chunk on the
AudioContext's timeline. "Say each sentence as I speak" (on by default) sets `revoice.live`:
each sentence is said back while the user goes on talking. Otherwise speech over an answer
stops it (barge-in) and tells the door how much was heard (`conversation.item.truncate`).
The page's voice, language, text step, instruction and speed controls set the session
(`session.update`), also while it runs.

Nothing here runs on the server but the door itself (docs/realtime.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources

import gradio as gr

from revoice.pipeline import TextMode

#: the panel; `data-live` names the parts the script drives
_MARKUP = """
<section class="revoice-live" data-state="off" aria-labelledby="live-title">
  <h3 id="live-title" class="live-title">Live: talk hands free</h3>
  <p class="live-help">Press <b>Start live</b> and talk. Your words appear as you say them,
  and revoice says each sentence back in the voice chosen above as soon as it has heard it,
  while you go on talking (with the language, text step and speed set there). Untick
  <i>as I speak</i>, or ask for a reply or an instruction, and revoice answers when you pause;
  then talking over an answer stops it. Echo cancellation keeps revoice from hearing itself.</p>
  <div class="live-controls">
    <button type="button" class="live-button live-start" data-live="start"
      id="live-start">Start live</button>
    <button type="button" class="live-button live-stop" data-live="stop" id="live-stop"
      disabled>Stop</button>
    <label class="live-option"><input type="checkbox" data-live="as-you-speak"
      id="live-as-you-speak" checked> Say each sentence as I speak</label>
    <span class="live-status" data-live="status" id="live-status" role="status"
      aria-live="polite">Off</span>
  </div>
  <p class="live-error" data-live="error" id="live-error" role="alert" hidden></p>
  <div class="live-log" data-live="log" id="live-log" aria-live="polite"></div>
</section>
"""

_CSS = """
.revoice-live { box-sizing: border-box; max-width: 100%; }
.revoice-live * { box-sizing: border-box; }
.live-title { margin: 0 0 0.25rem; font-size: var(--text-lg, 1.1rem); }
.live-help { margin: 0 0 0.5rem; font-size: var(--text-sm, 0.9rem); }
.live-controls { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.live-button {
  min-height: 2.75rem;
  min-width: 7rem;
  padding: 0.5rem 1rem;
  border-radius: var(--button-large-radius, 8px);
  border: 1px solid var(--button-secondary-border-color, #ccc);
  font-size: var(--text-lg, 1rem);
  font-weight: 600;
  cursor: pointer;
}
.live-button:disabled { opacity: 0.5; cursor: default; }
.live-option { display: inline-flex; gap: 0.35rem; align-items: center; min-height: 2.75rem; }
.live-start {
  background: var(--button-primary-background-fill, #f97316);
  color: var(--button-primary-text-color, #fff);
}
.live-stop {
  background: var(--button-secondary-background-fill, #eee);
  color: var(--button-secondary-text-color, #222);
}
.live-status { flex: 1 1 10rem; min-width: 0; overflow-wrap: anywhere; }
.revoice-live[data-state="speaking"] .live-status,
.revoice-live[data-state="hearing"] .live-status { font-weight: 600; }
.live-error {
  margin: 0.5rem 0 0;
  padding: 0.5rem;
  border-radius: 6px;
  color: var(--error-text-color, #b00020);
  background: var(--error-background-fill, #fdecea);
  overflow-wrap: anywhere;
}
.live-log {
  margin-top: 0.5rem;
  max-height: 16rem;
  overflow-y: auto;
  overflow-x: hidden;
}
.live-log:empty { display: none; }
.live-line { margin: 0.25rem 0; overflow-wrap: anywhere; }
.live-who { font-weight: 600; margin-right: 0.4rem; }
.live-you:not(.live-done) .live-words { opacity: 0.75; }
.live-interrupted .live-words::after { content: " (interrupted)"; opacity: 0.6; }
"""

#: the page controls' values, to the panel's script (on load and on every change)
_SETTINGS_JS = """
(voice, language, step, instruction, speed) => {
    const settings = { voice, language, step, instruction, speed };
    window.revoiceLiveSettings = settings;
    document.dispatchEvent(new CustomEvent("revoice-live-settings", { detail: settings }));
    return [];
}
"""


def _asset(name: str) -> str:
    return resources.files("revoice.ui").joinpath(name).read_text(encoding="utf-8")


def live_script(modes: Mapping[str, TextMode], defaults: Mapping[str, object]) -> str:
    """The panel's `js_on_load`: its CONFIG, then `live.js`."""
    config = {"worklet": _asset("live_worklet.js"), "modes": dict(modes), "defaults": defaults}
    # `</` cannot end a script here, but keep the JSON inert in any HTML context anyway
    data = json.dumps(config).replace("</", "<\\/")
    return f"const CONFIG = {data};\n{_asset('live.js')}"


def build_live(
    voice: gr.Dropdown,
    language: gr.Dropdown,
    step: gr.Radio,
    instruction: gr.Textbox,
    speed: gr.Slider,
    modes: Mapping[str, TextMode],
) -> gr.HTML:
    """The live panel, where it is called inside the page's Blocks, following the controls."""
    controls = [voice, language, step, instruction, speed]
    defaults = dict(
        zip(
            ("voice", "language", "step", "instruction", "speed"),
            (c.value for c in controls),
            strict=True,
        )
    )
    panel = gr.HTML(
        "",
        html_template=_MARKUP,
        css_template=_CSS,
        js_on_load=live_script(modes, defaults),
        elem_id="live",
        apply_default_css=False,
        container=True,
        padding=True,
    )
    # on load and on every change: no server round trip, the browser keeps the values
    gr.on(triggers=None, fn=None, inputs=controls, outputs=None, js=_SETTINGS_JS)
    return panel
