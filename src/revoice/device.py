"""Where torch engines run, in what precision, and where their weights come from.

Shared by the engines of the `bark`, `openai-whisper` and `transformers` extras. Nothing here
imports torch until a function that needs it is called, so the base install never pays for it.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from revoice.errors import EngineUnavailable, InvalidOption, install_hint

_DTYPES = {"float32", "float16", "bfloat16"}


def require(extra: str, engine: str, *modules: str) -> None:
    """Fail with the pip command to run when a module of `extra` is not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise EngineUnavailable(
            f"the {engine} engine needs {', '.join(missing)}, which is not installed", extra
        )


def installed(*modules: str) -> bool:
    """Whether every module can be imported, without importing any of them."""
    return all(importlib.util.find_spec(m) is not None for m in modules)


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


@dataclass(frozen=True)
class Placement:
    """A device ('cuda' or 'cpu') and the torch dtype the weights use there."""

    device: str
    dtype: Any  # torch.dtype; Any keeps torch out of this module's import

    @property
    def cuda(self) -> bool:
        return self.device.startswith("cuda")


def place(device: str = "auto", precision: str = "auto", *, setting: str = "device") -> Placement:
    """CUDA when asked for or available (float16), else CPU (float32); either can be forced.

    `setting` names the setting at fault in errors (e.g. 'REVOICE_BARK__DEVICE').
    """
    import torch

    if device not in ("auto", "cpu", "cuda"):
        raise InvalidOption(f"{setting} must be auto, cpu or cuda, not {device!r}", setting)
    has_cuda = bool(torch.cuda.is_available())
    if device == "cuda" and not has_cuda:
        raise EngineUnavailable(
            f"{setting}=cuda, but torch sees no CUDA GPU (torch {torch.__version__}); "
            "use 'auto' or 'cpu', or install a CUDA build of torch"
        )
    chosen = "cuda" if device == "cuda" or (device == "auto" and has_cuda) else "cpu"
    if precision == "auto":
        name = "float16" if chosen == "cuda" else "float32"
    elif precision in _DTYPES:
        name = precision
    else:
        raise InvalidOption(
            f"precision must be auto, float32, float16 or bfloat16, not {precision!r}", setting
        )
    return Placement(chosen, getattr(torch, name))


def four_bit_support() -> tuple[bool, str]:
    """(whether 4-bit loading with bitsandbytes can work here, why not when it cannot)."""
    if not installed("bitsandbytes"):
        return False, f"bitsandbytes is not installed ({install_hint('transformers')})"
    if not installed("accelerate"):
        return False, f"accelerate is not installed ({install_hint('transformers')})"
    if not cuda_available():
        return False, "4-bit loading with bitsandbytes needs a CUDA GPU, and torch sees none"
    return True, ""


def hub_offline() -> bool:
    """Whether the user told Hugging Face libraries to stay offline."""
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_cache() -> Path:
    """The Hugging Face cache's hub folder, as huggingface_hub finds it (without importing
    it): HF_HUB_CACHE, else HF_HOME/hub, else the XDG cache's huggingface/hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "huggingface" / "hub"


def weights_here(name: str, allow_download: bool) -> bool:
    """Whether model `name` can load now, as `weights_dir` would find it: a directory, a
    snapshot in the Hugging Face cache, or allowed to be downloaded. Cheap: no torch, no hub
    client."""
    path = Path(name).expanduser()
    if path.is_dir():
        return True
    if allow_download and not hub_offline():
        return True
    if name.count("/") != 1 or name.startswith((".", "~", "/")):
        return False
    snapshots = hub_cache() / f"models--{name.replace('/', '--')}" / "snapshots"
    return snapshots.is_dir() and any((s / "config.json").is_file() for s in snapshots.iterdir())


def weights_dir(
    name: str,
    *,
    what: str,
    allow_download: bool,
    setting: str,
    download_setting: str,
    patterns: list[str] | None = None,
) -> Path:
    """A local directory holding model `name`: the directory itself, or its snapshot in the
    Hugging Face cache (HF_HOME). Nothing is downloaded unless `allow_download` is set and
    HF_HUB_OFFLINE is not; a model that is not there raises an error saying how to provide it.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if path.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1:
        raise EngineUnavailable(f"{what}: no directory {path}; check {setting}")
    from huggingface_hub import snapshot_download

    download = allow_download and not hub_offline()
    try:
        return Path(snapshot_download(name, local_files_only=not download, allow_patterns=patterns))
    except Exception as exc:  # not cached, offline, no such repository, network down
        how = (
            f"put it in the Hugging Face cache first (with network: `hf download {name}`, "
            f"then it loads offline), or set {setting} to a directory saved with "
            "save_pretrained"
        )
        if allow_download and not download:
            how += " (downloading is off while HF_HUB_OFFLINE is set)"
        elif not allow_download:
            how += f", or allow downloading with {download_setting}=true"
        raise EngineUnavailable(
            f"{what} {name!r} is not available locally ({type(exc).__name__}); {how}"
        ) from None
