"""Tiny models for the torch extras, built once per session (each skips without its extra)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.extras import tiny


@pytest.fixture(scope="session")
def tiny_bark(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    return tiny.build_bark(tmp_path_factory.mktemp("bark"))


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("whisper")
    return tiny.build_whisper(tmp_path_factory.mktemp("whisper") / "tiny.pt")


@pytest.fixture(scope="session")
def tiny_t5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    return tiny.build_t5(tmp_path_factory.mktemp("t5"))


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    return tiny.build_llama(tmp_path_factory.mktemp("llama"))


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> None:
    """Tiny models run ~10x faster on one thread than on two contended ones."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
