"""revoice: transcribe a recording and speak it again in a voice you choose, offline.

The package's face: `Pipeline` (what every door calls), `Settings`, `Audio`, and three
shortcuts that read the environment's settings when given none: `load_asr`, `load_tts` and
`catalogue` (the voice catalogue; `revoice.voices` is the module).
"""

from __future__ import annotations

from revoice.asr.base import Transcriber
from revoice.audio import Audio
from revoice.config import Settings
from revoice.pipeline import Pipeline
from revoice.tts.base import Synthesizer
from revoice.voices import Catalogue

__version__ = "0.1.0"


def load_asr(model: str | None = None, settings: Settings | None = None) -> Transcriber:
    """A loaded speech-to-text engine ('base', 'tiny.en', a model directory, ...)."""
    from revoice.models import ModelCache

    return ModelCache(settings or Settings()).asr(model)


def load_tts(engine: str = "kokoro", settings: Settings | None = None) -> Synthesizer:
    """A loaded text-to-speech engine ('piper', 'kokoro')."""
    from revoice.models import ModelCache

    return ModelCache(settings or Settings()).tts(engine)


def catalogue(settings: Settings | None = None) -> Catalogue:
    """The voice catalogue: shipped voices, the seed presets and the user's own."""
    cfg = settings or Settings()
    return Catalogue.load(cfg.voices, cfg)


__all__ = ["Audio", "Pipeline", "Settings", "__version__", "catalogue", "load_asr", "load_tts"]
