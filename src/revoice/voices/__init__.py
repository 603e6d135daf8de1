"""The voices: the catalogue (revoice.voices.catalogue), the built-in presets and OpenAI's
names (.presets) and the user's voices file (.userfile). Each engine lists and parses its own
voices through its row in revoice.registry; nothing here names an engine.
"""

from revoice.voices.catalogue import PREVIEW_TEXTS, Catalogue, preview_text, voice_record
from revoice.voices.presets import OPENAI_VOICES, SEED_PRESETS, builtin_voices, seed_presets
from revoice.voices.userfile import (
    EFFECT_KEYS,
    MAX_DESCRIPTION,
    confine,
    controls_of,
    load_user_voices,
    parse_user_voices,
    read_voices_file,
)

__all__ = [
    "EFFECT_KEYS",
    "MAX_DESCRIPTION",
    "OPENAI_VOICES",
    "PREVIEW_TEXTS",
    "SEED_PRESETS",
    "Catalogue",
    "builtin_voices",
    "confine",
    "controls_of",
    "load_user_voices",
    "parse_user_voices",
    "preview_text",
    "read_voices_file",
    "seed_presets",
    "voice_record",
]
