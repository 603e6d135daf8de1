"""The text step's generators (reply to the speaker, or follow an instruction)."""

from __future__ import annotations

from revoice import registry
from revoice.config import Settings
from revoice.textgen.base import Mode, TextGenerator


def create(settings: Settings) -> TextGenerator:
    """The configured text generator (`text.backend`), built but not loaded."""
    spec = registry.get(settings.text.backend, "text")
    generator: TextGenerator = spec.load_class()(settings)
    return generator


__all__ = ["Mode", "TextGenerator", "create"]
