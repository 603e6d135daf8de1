"""Bark (suno/bark-small by default) through transformers: the 130 v2 presets, any length of text.

Bark says at most about 14 s per call, so text is cut by sentence (then clause, then word)
into pieces of about 13 s, each generated on its own and yielded as soon as it is made, at
24 kHz. One voice holds across pieces: every piece is conditioned on the voice's preset (or,
with `history = "previous"`, on the previous piece's own tokens), and each piece is sampled
from a fixed seed, so the same text and voice give the same speech.

The three stages (semantic, coarse, fine) are run here rather than through
`BarkModel.generate`, with the preset handed to each stage as tensors on the model's device:
the processor route has dropped presets silently before (transformers issue #34634: the
`history_prompt` of a moved `BatchEncoding` stayed on the CPU), and the previous piece's tokens
are only reachable this way. Nothing here imports torch until `load()`, so listing the presets
is free.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from revoice import text as textsplit
from revoice.audio import Audio
from revoice.config import Settings
from revoice.device import hub_offline, installed, place, require, weights_dir, weights_here
from revoice.errors import EngineUnavailable, UnknownName
from revoice.tts.base import UserVoice, with_pause
from revoice.types import SynthesisOptions, Voice

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
LANGUAGES = ("en", "de", "es", "fr", "hi", "it", "ja", "ko", "pl", "pt", "ru", "tr", "zh")
LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "tr": "Turkish",
    "zh": "Chinese",
}
#: the female speakers of each language in Suno's speaker library; the others are male
_FEMALE = {
    "en": {9},
    "de": {3, 8},
    "es": {8, 9},
    "fr": {1, 2, 5},
    "hi": {0, 1, 3, 4, 9},
    "it": {2, 7, 9},
    "ja": {0, 1, 3, 4, 5, 7, 8, 9},
    "ko": {0},
    "pl": {4, 6, 9},
    "pt": set(),
    "ru": {5, 6, 9},
    "tr": {4, 5},
    "zh": {4, 6, 7, 9},
}
PRESETS = tuple(f"v2/{lang}_speaker_{n}" for lang in LANGUAGES for n in range(10))
_PRESET = re.compile(r"v2/([a-z]{2})_speaker_(\d)")
_KEYS = ("semantic_prompt", "coarse_prompt", "fine_prompt")
_NDIM = {"semantic_prompt": 1, "coarse_prompt": 2, "fine_prompt": 2}
# CJK ideographs, kana and Hangul: each is about a syllable of speech
_SYLLABIC = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_MAX_TEXT_TOKENS = 256  # Bark's semantic stage reads at most 256 text tokens


def preset_gender(preset: str) -> Literal["male", "female"]:
    match = _PRESET.fullmatch(preset)
    if not match:
        raise ValueError(f"not a Bark v2 preset: {preset!r}")
    return "female" if int(match[2]) in _FEMALE[match[1]] else "male"


def preset_voice(preset: str, vid: str | None = None, description: str | None = None) -> Voice:
    """The catalogue entry that speaks with a v2 preset (id `bark/<preset>` by default)."""
    lang = preset[3:5]
    gender = preset_gender(preset)
    return Voice(
        id=vid or f"bark/{preset}",
        engine="bark",
        languages=(lang,),
        gender=gender,
        sample_rate=SAMPLE_RATE,
        description=description
        or f"Bark preset {preset}: {LANGUAGE_NAMES[lang]} {gender} (speaks any language)",
        base=preset,
    )


def preset_voices() -> list[Voice]:
    """All 130 v2 presets as voices; cheap (no torch, no weights)."""
    return [preset_voice(p) for p in PRESETS]


def listed(settings: Settings) -> bool:
    """Whether Bark's presets belong in the catalogue: with `auto`, when the bark extra is
    installed and Bark's weights are here (a model directory, the Hugging Face cache, or
    downloading allowed), so no listed voice answers only "no weights". Checked without
    importing torch."""
    cfg = settings.bark
    if cfg.voices == "auto":
        if cfg.seed_presets:
            return True
        name = settings.bark_model or cfg.model
        return installed("torch", "transformers") and weights_here(name, cfg.allow_download)
    return cfg.voices == "on"


def estimate_seconds(text: str) -> float:
    """About how long Bark takes to say `text` (2.6 words or 13 letters a second)."""
    syllabic = len(_SYLLABIC.findall(text))
    rest = _SYLLABIC.sub(" ", text)
    letters = sum(ch.isalnum() for ch in rest)
    return syllabic / 6.0 + max(len(rest.split()) / 2.6, letters / 13.0)


class BarkSynthesizer:
    """Speaks with Bark's presets; one piece (about a sentence) per yielded chunk."""

    blends: ClassVar[bool] = False

    @staticmethod
    def voices(settings: Settings) -> list[Voice]:
        return preset_voices() if listed(settings) else []

    @staticmethod
    def user_voice(spec: Mapping[str, Any], common: UserVoice) -> Voice:
        """`base` (or `model`): a v2 preset name, or a .npz history prompt of your own."""
        base = spec.get("base") or spec.get("model") or "v2/en_speaker_6"
        if isinstance(base, str) and base.endswith(".npz"):
            try:
                found = Path(base).expanduser().is_file()
            except (OSError, RuntimeError, ValueError):
                found = False
            if not found:
                raise common.error(f"Bark voice file {base} not found")
            base = str(Path(base).expanduser())
        elif base not in PRESETS:
            raise common.error(
                f"base must be a Bark preset such as 'v2/en_speaker_6' "
                f"(v2/<{'|'.join(LANGUAGES)}>_speaker_<0-9>) or a .npz voice file"
            )
        return common.voice("bark", SAMPLE_RATE, str(base))

    @staticmethod
    def voice_file(voice: Voice) -> str | None:
        return voice.base if voice.base.endswith(".npz") else None

    def __init__(self, settings: Settings) -> None:
        require("bark", "bark", "torch", "transformers")
        self._settings = settings
        self._model: Any = None
        self._tokenizer: Any = None
        self._dir: Path | None = None
        self._repo: str | None = None  # the hub id, when the weights came from the HF cache
        self._table: dict[str, Any] = {}
        self._presets: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()  # loading
        self._run = threading.Lock()  # generation: one model, one global RNG
        self.sample_rate = SAMPLE_RATE

    # -- loading -------------------------------------------------------------------------

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from transformers import AutoTokenizer, BarkModel

            cfg = self._settings.bark
            name = self._settings.bark_model or cfg.model
            setting = "REVOICE_BARK_MODEL" if self._settings.bark_model else "REVOICE_BARK__MODEL"
            directory = weights_dir(
                name,
                what="the Bark model",
                allow_download=cfg.allow_download,
                setting=setting,
                download_setting="REVOICE_BARK__ALLOW_DOWNLOAD",
                patterns=["*.json", "*.txt", "*.bin", "*.safetensors", "speaker_embeddings/v2/*"],
            )
            placement = place(cfg.device, cfg.precision, setting="REVOICE_BARK__DEVICE")
            try:
                model = BarkModel.from_pretrained(
                    directory, dtype=placement.dtype, local_files_only=True
                )
                tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
            except (OSError, ValueError) as exc:
                raise EngineUnavailable(
                    f"cannot load the Bark model from {directory}: {exc}"
                ) from None
            if not isinstance(getattr(model.generation_config, "semantic_config", None), dict):
                raise EngineUnavailable(
                    f"{directory} holds no Bark generation_config.json (semantic_config missing)"
                )
            table_file = directory / "speaker_embeddings_path.json"
            table = json.loads(table_file.read_text()) if table_file.is_file() else {}
            self._model = model.to(placement.device).eval()
            self._tokenizer = tokenizer
            self._dir = directory
            self._repo = None if Path(name).expanduser().is_dir() else name
            self._table = table if isinstance(table, dict) else {}
            self.sample_rate = int(model.config.codec_config.sampling_rate)

    # -- presets ---------------------------------------------------------------------------

    def preset(self, name: str) -> dict[str, Any]:
        """The voice preset `name` (a v2 preset name or a .npz file) as tensors on the device."""
        self.load()
        with self._lock:
            if name in self._presets:
                return self._presets[name]
        arrays = self._read_preset(name)
        for key in _KEYS:
            value = arrays.get(key)
            if not isinstance(value, np.ndarray) or value.ndim != _NDIM[key] or value.size == 0:
                raise EngineUnavailable(f"Bark preset {name!r}: {key} is missing or malformed")
        torch = _torch()
        device = self._model.device
        tensors = {k: torch.as_tensor(arrays[k].astype(np.int64), device=device) for k in _KEYS}
        with self._lock:
            self._presets[name] = tensors
        return tensors

    def _read_preset(self, name: str) -> dict[str, np.ndarray]:
        if name.endswith(".npz"):
            path = Path(name).expanduser()
            if not path.is_file():
                raise EngineUnavailable(f"Bark voice file {path} not found")
            with np.load(path, allow_pickle=False) as npz:
                return {k: np.asarray(npz[k]) for k in npz.files}
        assert self._dir is not None
        entry = self._table.get(name)
        relative = {
            k: str(entry[k]) if isinstance(entry, dict) and k in entry else _conventional(name, k)
            for k in _KEYS
        }
        found: dict[str, np.ndarray] = {}
        for key, rel in relative.items():
            inside = _inside(self._dir, rel)
            if inside is None:
                raise EngineUnavailable(f"Bark preset {name!r}: bad path {rel!r}")
            path = inside if inside.is_file() else self._fetch(name, rel)
            found[key] = np.load(path, allow_pickle=False)
        return found

    def _fetch(self, name: str, relative: str) -> Path:
        """A preset file missing from the directory: downloaded only when allowed."""
        cfg = self._settings.bark
        if name not in PRESETS and name not in self._table:
            raise UnknownName("bark preset", name, PRESETS)
        if self._repo and cfg.allow_download and not hub_offline():
            from huggingface_hub import hf_hub_download

            return Path(hf_hub_download(self._repo, relative))
        source = self._repo or str(self._dir)
        raise EngineUnavailable(
            f"Bark preset {name} is not in {self._dir} (no {relative}); with network, fetch "
            f"the presets once: `hf download {self._repo or 'suno/bark-small'} --include "
            f"'speaker_embeddings/v2/*'`"
            + ("" if self._repo else f" and copy speaker_embeddings/ into {source}")
            + ", or set REVOICE_BARK__ALLOW_DOWNLOAD=true"
        )

    # -- speech ----------------------------------------------------------------------------

    def fits(self, piece: str) -> bool:
        """Whether Bark can say `piece` in one call (about 13 s, at most 256 text tokens)."""
        if estimate_seconds(piece) > self._settings.bark.piece_seconds:
            return False
        ids = self._tokenizer(piece, add_special_tokens=False)["input_ids"]
        return len(ids) <= _MAX_TEXT_TOKENS

    def synthesize(self, text: str, voice: Voice, options: SynthesisOptions) -> Iterator[Audio]:
        """Every piece of `text` in `voice`, in order. Bark has no speed control: the speed
        option is not applied."""
        self.load()
        preset = self.preset(voice.base or "v2/en_speaker_1")
        pause = self._settings.tts.sentence_pause
        previous = self._settings.bark.history == "previous"
        history = preset
        for piece in textsplit.pieces(text, self.fits):
            samples, tokens = self.generate(piece, history)
            if previous and tokens is not None:
                history = tokens
            yield with_pause(samples, self.sample_rate, pause)

    def generate(
        self, text: str, history: dict[str, Any] | None
    ) -> tuple[np.ndarray, dict[str, Any] | None]:
        """One piece: (float32 samples, its own tokens as a history for the next piece)."""
        from transformers.models.bark.generation_configuration_bark import (
            BarkCoarseGenerationConfig,
            BarkFineGenerationConfig,
            BarkSemanticGenerationConfig,
        )

        torch = _torch()
        cfg = self._settings.bark
        model = self._model
        gen = model.generation_config
        semantic_cfg = BarkSemanticGenerationConfig(**gen.semantic_config)
        coarse_cfg = BarkCoarseGenerationConfig(**gen.coarse_acoustics_config)
        fine_cfg = BarkFineGenerationConfig(**gen.fine_acoustics_config)
        for stage in (semantic_cfg, coarse_cfg):
            stage.do_sample = True
            stage.temperature = cfg.temperature
        fine_cfg.temperature = cfg.fine_temperature
        codebook = int(gen.codebook_size)
        encoded = self._tokenizer(
            text,
            return_tensors="pt",
            padding="max_length",
            truncation=True,
            max_length=_MAX_TEXT_TOKENS,
            add_special_tokens=False,
            return_attention_mask=True,
            return_token_type_ids=False,
        )
        device = model.device
        with self._run, torch.inference_mode():
            if cfg.seed is not None:
                torch.manual_seed(cfg.seed)
            semantic = model.semantic.generate(
                encoded["input_ids"].to(device),
                history_prompt=history,
                semantic_generation_config=semantic_cfg,
                attention_mask=encoded["attention_mask"].to(device),
            )
            spoken = semantic[0][semantic[0] < semantic_cfg.semantic_vocab_size].clone()
            if len(spoken) == 0:  # Bark said nothing for this piece
                log.warning("Bark produced no speech for %r", text[:60])
                return np.zeros(0, dtype=np.float32), None
            coarse = model.coarse_acoustics.generate(
                semantic,
                history_prompt=history,
                semantic_generation_config=semantic_cfg,
                coarse_generation_config=coarse_cfg,
                codebook_size=codebook,
            )
            fine = model.fine_acoustics.generate(
                coarse,
                history_prompt=history,
                semantic_generation_config=semantic_cfg,
                coarse_generation_config=coarse_cfg,
                fine_generation_config=fine_cfg,
                codebook_size=codebook,
            )
            audio = model.codec_decode(fine)
        samples = audio.reshape(-1).float().cpu().numpy()
        n_coarse = coarse_cfg.n_coarse_codebooks
        coarse_codes = torch.remainder(
            coarse[0].reshape(-1, n_coarse) - semantic_cfg.semantic_vocab_size, codebook
        ).T
        tokens = {"semantic_prompt": spoken, "coarse_prompt": coarse_codes, "fine_prompt": fine[0]}
        return np.clip(samples, -1.0, 1.0).astype(np.float32), tokens


def _conventional(preset: str, key: str) -> str:
    """Where save_pretrained puts a preset's arrays."""
    return f"speaker_embeddings/{preset}_{key}.npy"


def _inside(root: Path, relative: str) -> Path | None:
    """root/relative, or None when `relative` climbs out of root (checked without resolving
    links: Hugging Face cache snapshots are links into a sibling blobs/ folder)."""
    base = os.path.abspath(root)
    target = os.path.abspath(os.path.join(base, relative))
    return Path(target) if os.path.commonpath([base, target]) == base else None


def _torch() -> Any:
    import torch

    return torch
