"""The engine table: every engine revoice knows, as data, imported only when selected.

The CLI's choices, `/v1/models` and the web page's dropdowns all read this one table.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any, Literal

from revoice.errors import EngineUnavailable, UnknownName

Kind = Literal["asr", "tts", "text"]


@dataclass(frozen=True)
class EngineSpec:
    name: str
    kind: Kind
    target: str  # "module:Class"
    description: str
    extra: str | None = None  # pip extra that provides it; None = in the base install
    languages: tuple[str, ...] = ()  # empty = many (whatever the model supports)
    sample_rate: int | None = None
    streaming: bool = True
    requires: tuple[str, ...] = ()  # modules the extra provides (probed without importing)
    models: tuple[str, ...] = ()  # the model names that ship with it (an ASR engine's)
    #: a TTS engine with too many voices to name in a message: what they are and their ids'
    #: shape, said instead of each id
    voice_pattern: str | None = None

    def installed(self) -> bool:
        """Whether the engine's dependencies are there (its model may still fail to load)."""
        return all(importlib.util.find_spec(module) is not None for module in self.requires)

    def load_class(self) -> Any:
        """Import the adapter class; a missing dependency names the extra to install."""
        module_name, _, attr = self.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise EngineUnavailable(
                f"the {self.name} engine is not installed ({exc.name or exc})", self.extra
            ) from None
        return getattr(module, attr)


ENGINES: tuple[EngineSpec, ...] = (
    EngineSpec(
        "faster-whisper",
        "asr",
        "revoice.asr.faster_whisper:FasterWhisperTranscriber",
        "Whisper via CTranslate2; shipped models: base (multilingual), tiny.en",
        sample_rate=16000,
        models=("base", "tiny.en"),
    ),
    EngineSpec(
        "piper",
        "tts",
        "revoice.tts.piper:PiperSynthesizer",
        "Piper VITS voices (ONNX); shipped: en_US-joe-medium",
        languages=("en",),
        sample_rate=22050,
    ),
    EngineSpec(
        "kokoro",
        "tts",
        "revoice.tts.kokoro:KokoroSynthesizer",
        "Kokoro-82M int8 ONNX with 5 shipped style packs; English and Hindi via espeak-ng",
        languages=("en", "hi"),
        sample_rate=24000,
    ),
    EngineSpec(
        "festival",
        "tts",
        "revoice.tts.system:FestivalSynthesizer",
        "Festival's text2wave (Debian festival + festvox-hi-nsk, festvox-us-slt-hts, "
        "festvox-kallpc16k): native Hindi male NSK, US English slt (HTS) and kal",
        languages=("en", "hi"),
    ),
    EngineSpec(
        "flite",
        "tts",
        "revoice.tts.system:FliteSynthesizer",
        "flite (Debian flite): US English slt, rms, kal and Scottish awb, 16 kHz",
        languages=("en",),
        sample_rate=16000,
    ),
    EngineSpec(
        "espeak-ng",
        "tts",
        "revoice.tts.system:EspeakSynthesizer",
        "espeak-ng (Debian espeak-ng): formant synthesis, English and Hindi with variants",
        languages=("en", "hi"),
        sample_rate=22050,
    ),
    EngineSpec(
        "bark",
        "tts",
        "revoice.tts.bark:BarkSynthesizer",
        "Bark (suno/bark-small) via transformers: 130 v2 presets in 13 languages; weights from "
        "the Hugging Face cache or a directory",
        extra="bark",
        requires=("torch", "transformers"),
        voice_pattern="Bark presets bark/v2/<language>_speaker_<0-9>",
        languages=("en", "de", "es", "fr", "hi", "it", "ja", "ko", "pl", "pt", "ru", "tr", "zh"),
        sample_rate=24000,
    ),
    EngineSpec(
        "openai-whisper",
        "asr",
        "revoice.asr.openai_whisper:OpenAIWhisperTranscriber",
        "Whisper via openai-whisper (PyTorch); default model medium, from ~/.cache/whisper",
        extra="openai-whisper",
        requires=("torch", "whisper"),
        sample_rate=16000,
        streaming=False,
    ),
    EngineSpec(
        "transformers",
        "text",
        "revoice.textgen.transformers_backend:TransformersGenerator",
        "Text generation with transformers: flan-t5-large (4-bit on CUDA), any seq2seq or "
        "causal model, or the shipped SmolLM2-135M-Instruct GGUF",
        extra="transformers",
        requires=("torch", "transformers"),
    ),
    EngineSpec(
        "openai-chat",
        "text",
        "revoice.textgen.openai_chat:OpenAIChatGenerator",
        "Any OpenAI-compatible chat server (llama.cpp, Ollama, vLLM, ...) at text.base_url",
    ),
)


def engines(kind: Kind | None = None) -> list[EngineSpec]:
    return [e for e in ENGINES if kind is None or e.kind == kind]


def asr_models(engine: str, configured: str) -> list[str]:
    """The model names a transcription may ask for: the configured one first, then those
    that ship with the configured engine."""
    shipped = get(engine, "asr").models
    return [configured, *(name for name in shipped if name != configured)]


def get(name: str, kind: Kind) -> EngineSpec:
    for spec in ENGINES:
        if spec.name == name and spec.kind == kind:
            return spec
    raise UnknownName(f"{kind} engine", name, [e.name for e in engines(kind)], param="engine")


#: model names OpenAI clients send, and what they mean here (None = the configured default)
ASR_ALIASES: dict[str, str | None] = {
    "whisper-1": None,
    "gpt-4o-transcribe": None,
    "gpt-4o-mini-transcribe": None,
}
TTS_MODELS = (
    "tts-1",
    "tts-1-hd",
    "gpt-4o-mini-tts",
    "revoice",
    *(e.name for e in ENGINES if e.kind == "tts"),
)
