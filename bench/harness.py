"""Timing, memory and report helpers shared by the benchmark sections."""

from __future__ import annotations

import platform
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import TypeVar

T = TypeVar("T")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def first_and_total(chunks: Iterator[T]) -> tuple[list[T], float, float]:
    """Consume an iterator: (items, seconds to the first item, seconds to the end)."""
    start = time.perf_counter()
    items: list[T] = []
    first = 0.0
    for item in chunks:
        if not items:
            first = time.perf_counter() - start
        items.append(item)
    return items, first, time.perf_counter() - start


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([c if isinstance(c, str) else _fmt(c) for c in cells])

    def markdown(self) -> str:
        lines = [
            f"### {self.title}",
            "",
            "| " + " | ".join(self.columns) + " |",
            "|" + "---|" * len(self.columns),
        ]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def machine() -> str:
    """The machine, versions and date, stated with every set of tables."""
    import os

    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in (
            "revoice-offline",
            "faster-whisper",
            "ctranslate2",
            "onnxruntime",
            "piper-tts",
            "av",
        )
    )
    cpu = platform.processor() or platform.machine()
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}; {versions}"
    )
