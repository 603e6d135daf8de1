"""The built-in voices: the seed's seven presets (bound to pip-shipped engines, or to Bark
with `bark.seed_presets`), OpenAI's voice names, and every engine's own voices (each engine
row lists them: revoice.registry)."""

from __future__ import annotations

from revoice import registry
from revoice.config import Settings
from revoice.tts import bark
from revoice.tts.kokoro import kokoro_voice
from revoice.tts.piper import joe
from revoice.types import Voice

SEED_PRESETS = (
    "english-male-1",
    "english-male-2",
    "english-female",
    "hindi-male-1",
    "hindi-male-2",
    "hindi-female-1",
    "hindi-female-2",
)
#: OpenAI's voice names, for clients that only know those (documented in docs/voices.md)
OPENAI_VOICES = {
    "alloy": "english-female",
    "echo": "english-male-1",
    "fable": "english-male-2",
    "onyx": "kokoro/jm_kumo",
    "nova": "kokoro/jf_gongitsune",
    "shimmer": "kokoro/jf_tebukuro",
    # OpenAI's newer voices (LiveKit's default is ash; Pipecat accepts all of them)
    "ash": "english-male-1",
    "ballad": "kokoro/jm_kumo",
    "cedar": "english-male-1",
    "coral": "kokoro/jf_alpha",
    "marin": "kokoro/jf_nezumi",
    "sage": "kokoro/jf_nezumi",
    "verse": "kokoro/jm_kumo",
}
#: what each Kokoro preset says of its style (users should not discover the accent)
_ACCENT = "a Japanese speaker (Japanese accent)"
#: the seed design's seven voice names and the Bark presets it gave them
BARK_SEED_BINDING = {
    "english-male-1": "v2/en_speaker_1",
    "english-male-2": "v2/en_speaker_2",
    "english-female": "v2/en_speaker_9",
    "hindi-male-1": "v2/hi_speaker_2",
    "hindi-male-2": "v2/hi_speaker_5",
    "hindi-female-1": "v2/hi_speaker_0",
    "hindi-female-2": "v2/hi_speaker_4",
}


def seed_presets(settings: Settings) -> list[Voice]:
    """The seed's seven names: seven distinct voices of the pip-shipped engines (docs/voices.md
    tells how they were measured), or the seed's own Bark presets with `bark.seed_presets`."""
    if settings.bark.seed_presets:
        return [
            bark.preset_voice(p, vid, f"Seed preset: Bark {p} ({bark.LANGUAGE_NAMES[p[3:5]]})")
            for vid, p in BARK_SEED_BINDING.items()
        ]
    # The only male Kokoro style, jm_kumo, makes three voices through the formant control (a
    # speaker embedder hears the vocal tract's size; pitch or a blend alone leave it at kumo).
    # Bound only to pip-shipped engines, so a name is the same voice on every machine.
    return [
        joe(
            "english-male-1",
            "Seed preset: US English male, native. Piper en_US-joe-medium; same voice as piper/joe",
        ),
        kokoro_voice(
            "english-male-2",
            ("en",),
            f"Seed preset: English male. Kokoro style jm_kumo, {_ACCENT}; same voice as "
            "kokoro/jm_kumo",
            {"jm_kumo": 1.0},
            "male",
        ),
        kokoro_voice(
            "english-female",
            ("en",),
            f"Seed preset: English female. Kokoro style jf_alpha, {_ACCENT}; same voice as "
            "kokoro/jf_alpha",
            {"jf_alpha": 1.0},
            "female",
        ),
        kokoro_voice(
            "hindi-male-1",
            ("hi",),
            f"Seed preset: Hindi male, deep. Kokoro style jm_kumo, {_ACCENT}; formant 0.85, "
            "pitch -1",
            {"jm_kumo": 1.0},
            "male",
            pitch=-1.0,
            formant=0.85,
        ),
        kokoro_voice(
            "hindi-male-2",
            ("hi",),
            f"Seed preset: Hindi male, lighter and slower. Kokoro style jm_kumo, {_ACCENT}; "
            "formant 1.15, speed 0.9",
            {"jm_kumo": 1.0},
            "male",
            speed=0.9,
            formant=1.15,
        ),
        kokoro_voice(
            "hindi-female-1",
            ("hi",),
            f"Seed preset: Hindi female, low. Kokoro style jf_nezumi, {_ACCENT}; formant 0.88",
            {"jf_nezumi": 1.0},
            "female",
            formant=0.88,
        ),
        kokoro_voice(
            "hindi-female-2",
            ("hi",),
            f"Seed preset: Hindi female. Kokoro style jf_gongitsune, {_ACCENT}; same voice as "
            "kokoro/jf_gongitsune",
            {"jf_gongitsune": 1.0},
            "female",
        ),
    ]


def builtin_voices(settings: Settings) -> list[Voice]:
    """The seed's seven preset names, then every engine's own voices in the engine table's
    order (shipped Piper and Kokoro voices, installed system voices, Bark's presets when the
    bark extra and its weights are here)."""
    engines = [v for row in registry.engines("tts") for v in row.load_class().voices(settings)]
    return [*seed_presets(settings), *engines]
