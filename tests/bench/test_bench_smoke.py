"""The benchmark harness runs on one tiny input, so `make bench` cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import chart, sections
from bench.__main__ import main
from bench.harness import Table, first_and_total
from revoice.pipeline import Pipeline
from tests.helpers import Clip


def test_sections_on_tiny_inputs(pipeline: Pipeline, clips: list[Clip], tmp_path: Path) -> None:
    asr = sections.asr(pipeline, clips[:1], ["tiny.en"])
    assert asr.rows[0][0] == "tiny.en" and float(asr.rows[0][3]) <= 0.2  # WER column
    tts = sections.tts(pipeline, ["english-male-1"])
    assert float(tts.rows[0][5]) <= 0.2 and float(tts.rows[0][4]) > 0  # WER, first audio
    v2v = sections.voice_to_voice(pipeline, clips, [3.0], "english-male-1")
    naive, after, first, total = (float(v2v.rows[0][i]) for i in (1, 2, 3, 4))
    assert 0 < first <= total and naive > 0 and after > 0
    png = chart.draw(v2v, tts, None, tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| english-male-1 |" in tts.markdown()
    said = "It was the best of times, it was the worst of times, it was the age of wisdom."
    run_on = sections.run_on(pipeline, "english-male-1", "english-male-1", 1, said)
    segment, first, after = run_on.rows[0][1:]
    assert "best of times" in segment.lower() and float(first) > 0 and float(after) > 0


def test_first_and_total_measures_a_stream() -> None:
    items, first, total = first_and_total(iter([1, 2, 3]))
    assert items == [1, 2, 3] and 0 <= first <= total


def test_table_formats_numbers() -> None:
    table = Table("t", ["a", "b"])
    table.add("x", 0.123456)
    table.add("y", 1234.5)
    assert table.rows == [["x", "0.123"], ["y", "1234.5"]]


def test_command_writes_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    out = tmp_path / "BENCHMARKS.md"
    assert main(["--quick", "--only", "transcribe overhead", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Benchmarks") and "bare BatchedInferencePipeline" in text
    assert "cores" in text and "faster-whisper" in text  # machine and versions stated
