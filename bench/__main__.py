"""`python -m bench [--quick]`: run the benchmarks, write BENCHMARKS.md and a PNG chart."""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from bench import chart, knobs, load, overhead, realtime, scaling, sections
from bench.harness import Table, machine, peak_rss_mb
from revoice.config import Settings
from revoice.pipeline import Pipeline
from tests.helpers import human_clips


def plan(quick: bool, home: Path, out: Path) -> list[tuple[str, Callable[[], Table]]]:
    out = _logs(out)  # the servers' logs: bench/logs/<name>.<what>.log, not beside the tables
    pipeline = Pipeline(Settings(home=home, voices=home / "none.toml"))
    clips = human_clips()
    voices = (
        ["english-male-1", "english-female"]
        if quick
        else [
            "english-male-1",
            "english-male-2",
            "english-female",
            "hindi-male-1",
            "hindi-female-2",
        ]
    )
    long_audio = sections._human_recording(clips, 60)
    steps: list[tuple[str, Callable[[], Table]]] = [
        (
            "speech to text",
            lambda: sections.asr(
                pipeline, clips[:5] if quick else clips, ["base"] if quick else ["base", "tiny.en"]
            ),
        ),
        (
            "transcribe overhead",
            lambda: sections.asr_overhead(pipeline, clips[0].audio, 2 if quick else 5),
        ),
        ("encoder window", lambda: sections.encoder_window(home, clips)),
        ("language detection", lambda: sections.language_detection(pipeline, clips)),
        (
            "server overhead",
            lambda: overhead.server_overhead(
                home, 3 if quick else 7, out.with_suffix(".overhead.log")
            ),
        ),
        (
            "door overhead",
            lambda: overhead.door_overhead(  # 11: the busy rows move by 0.2 between runs of 7
                home, 3 if quick else 11, out.with_suffix(".overhead.log")
            ),
        ),
        (
            "realtime",
            lambda: realtime.section(home, out.with_suffix(".realtime.log"), quick),
        ),
        ("text to speech", lambda: sections.tts(pipeline, voices)),
        (
            "voice to voice",
            lambda: sections.voice_to_voice(
                pipeline, clips, [3.0, 10.0] if quick else [3.0, 10.0, 45.0], "english-male-1"
            ),
        ),
        (
            "run-on sentence",
            lambda: sections.run_on(
                pipeline, "english-female", "english-male-1", 2 if quick else 3
            ),
        ),
        (
            "server under load",
            lambda: load.load(
                home,
                [1, 2] if quick else [1, 2, 4, 8],
                1 if quick else 3,
                out.with_suffix(".server.log"),
            ),
        ),
        (
            "recording length",
            lambda: scaling.asr_scaling(home, [1, 10] if quick else [1, 10, 60, 300, 600]),
        ),
        (
            "text length",
            lambda: scaling.tts_scaling(
                home, [60, 600] if quick else [70, 500, 1500, 5000], "english-female"
            ),
        ),
    ]
    steps.append(
        (
            "soak",
            lambda: load.soak_table(
                home, 15 if quick else 60, 2 if quick else 4, out.with_suffix(".soak.log")
            ),
        )
    )
    if not quick and importlib.util.find_spec("ray") is not None:
        steps.append(
            (
                "ray serve",
                lambda: load.ray_vs_plain(home, 8, 2, out.with_suffix(".ray.log")),
            )
        )
    if not quick:
        steps += [
            ("ASR knobs", lambda: knobs.asr_knobs(home, clips, long_audio)),
            ("TTS knobs", lambda: knobs.tts_knobs(home, sections.ROUND_TRIP * 3, "english-female")),
            ("warm-up", lambda: knobs.warm_up(home, clips[0].audio, "english-female")),
            (
                "lookahead",
                lambda: knobs.lookahead(
                    home, " ".join([sections.ROUND_TRIP] * 3), ["english-male-1", "english-female"]
                ),
            ),
        ]
    return steps


def _logs(out: Path) -> Path:
    """Where the logs of a run writing `out` go (their names are `out`'s, with a suffix)."""
    logs = Path(__file__).parent / "logs"
    logs.mkdir(exist_ok=True)
    return logs / out.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small inputs, under 3 minutes")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    parser.add_argument("--only", help="run only the sections whose name contains this")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    home = Path(tempfile.gettempdir()) / "revoice-bench-home"
    tables: dict[str, Table] = {}
    steps = [(n, s) for n, s in plan(args.quick, home, args.out) if not args.only or args.only in n]
    with console.status("benchmarking") as status:
        for number, (name, step) in enumerate(steps, start=1):
            status.update(f"benchmarking {number}/{len(steps)}: {name}")
            tables[name] = step()
            console.print(tables[name].markdown())
    header = (
        f"# Benchmarks\n\nMeasured {machine()}; mode: {'quick' if args.quick else 'full'}; "
        f"peak RSS of the benchmark process {peak_rss_mb():.0f} MiB.\n"
        "Reproduce with `make bench` (or `make bench-quick`); ratios are measured side by "
        "side in one run.\n\n"
    )
    body = "\n".join(t.markdown() for t in tables.values())
    if "voice to voice" in tables and "text to speech" in tables:
        png = chart.draw(
            tables["voice to voice"],
            tables["text to speech"],
            tables.get("server under load"),
            args.out.with_suffix(".png"),
        )
        body = f"![headline numbers]({png.name})\n\n" + body
    args.out.write_text(header + body, encoding="utf-8")
    console.print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
