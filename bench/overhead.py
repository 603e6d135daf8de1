"""Server overhead: what a request costs over HTTP against the same Pipeline in process and the
bare engine, on a quiet machine and with a competing CPU load, measured side by side.

Each path runs in its own process, so each has its own thread pools: a `revoice serve`, an
in-process worker (the Pipeline, driven over a pipe) and a bare faster-whisper worker
(speaches' recipe: `WhisperModel(..., compute_type="int8").transcribe(vad_filter=True)`).
Requests alternate between the paths; CPU seconds are the serving process's own (from /proc).
The thread policy (`OMP_WAIT_POLICY`, see revoice.threads) is a property of a process, so the
old default (OpenMP's own: an empty OMP_WAIT_POLICY, which revoice leaves alone) runs as a
second server. (OMP_WAIT_POLICY=ACTIVE is not used here: its idle threads spin without end
and would slow every other path of the benchmark.)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.harness import Table
from tests.api.helpers import free_port

TICK = os.sysconf("SC_CLK_TCK")
CLIP = Path(__file__).parent.parent / "tests" / "data" / "human" / "librivox-0870.wav"

_WORKER = r"""
import json, resource, sys, time
from pathlib import Path
mode, home = sys.argv[1], Path(sys.argv[2])
from revoice import codecs
from revoice.config import Settings
from revoice.pipeline import Pipeline
settings = Settings(home=home, voices=home / "none.toml")
pipeline = Pipeline(settings)
if mode == "bare":
    from faster_whisper import WhisperModel
    from revoice import assets
    model = WhisperModel(str(assets.whisper_base_dir(home)), device="cpu", compute_type="int8")
    def run(audio):
        segments, _ = model.transcribe(audio.resample(16000).samples, vad_filter=True)
        return " ".join(s.text for s in segments)
elif mode == "speak":
    from revoice.audio import Audio
    def run(text):
        return Audio.concat(pipeline.speak(text, "english-male-1")).duration
else:
    def run(audio):
        return pipeline.transcribe(audio).text
for line in sys.stdin:
    job = json.loads(line)
    arg = job["text"] if mode == "speak" else codecs.decode(job["path"])
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    out = run(arg)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps({"wall": wall, "cpu": cpu, "out": str(out)}), flush=True)
"""


def _env(home: Path, policy: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REVOICE_", "OMP_"))}
    env.update(
        REVOICE_HOME=str(home),
        REVOICE_VOICES=str(home / "none.toml"),
        GRADIO_ANALYTICS_ENABLED="False",
        OMP_WAIT_POLICY=policy,
        NO_PROXY="127.0.0.1",
    )
    return env


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Worker:
    """A Pipeline (or bare engine) in its own process, one job per line."""

    def __init__(self, mode: str, home: Path, policy: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, mode, str(home)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_env(home, policy),
        )

    def __call__(self, **job: str) -> tuple[float, float]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        return answer["wall"], answer["cpu"]

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@contextmanager
def _server(home: Path, policy: str, log: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "revoice", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(home, policy),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                health = httpx.get(url + "/health", trust_env=False).json()
                if len(health.get("loaded", [])) >= 2:  # warm-up done
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


@contextmanager
def _competing_load(on: bool) -> Iterator[None]:
    """Two busy processes (one per core of this machine), as on any shared server."""
    hogs = (
        [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        if on
        else []
    )
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def _http(url: str, pid: int, path: str, **kwargs: object) -> tuple[float, float]:
    with httpx.Client(trust_env=False, timeout=600) as http:
        cpu, start = _cpu(pid), time.perf_counter()
        answer = http.post(url + path, **kwargs)  # type: ignore[arg-type]
        answer.raise_for_status()
        return time.perf_counter() - start, _cpu(pid) - cpu


def server_overhead(home: Path, rounds: int, log: Path) -> Table:
    table = Table(
        "Server overhead (transcription, librivox-0870, 7 s, Whisper base int8)",
        ["load", "path", "median s", "median CPU-s", "x in process (s)", "x in process (CPU)"],
    )
    for contended in (False, True):
        results = _measure(home, log, contended, rounds)
        base = results["Pipeline.transcribe in process"]
        base_wall = statistics.median(w for w, _ in base)
        base_cpu = statistics.median(c for _, c in base)
        for name, samples in results.items():
            wall = statistics.median(w for w, _ in samples)
            cpu = statistics.median(c for _, c in samples)
            table.add(
                "2 busy processes" if contended else "quiet",
                name,
                wall,
                cpu,
                f"{wall / base_wall:.2f}",
                f"{cpu / base_cpu:.2f}",
            )
    table.notes.append(
        f"{rounds} requests per path, alternating; CPU seconds of the serving process. "
        "'before' is a revoice serve with OpenMP's own default (threads spin a while after "
        "each step), as before revoice.threads set passive waiting; 'quiet' has no other load "
        "than the benchmark."
    )
    table.notes.append(_concurrency(home, log))
    return table


def _measure(
    home: Path, log: Path, contended: bool, rounds: int
) -> dict[str, list[tuple[float, float]]]:
    files = {"file": ("a.wav", CLIP.read_bytes(), "audio/wav")}
    with (
        _server(home, "PASSIVE", log) as (url, pid),
        _server(home, "", log) as (old_url, old_pid),
    ):
        pipeline, bare = Worker("pipeline", home, "PASSIVE"), Worker("bare", home, "PASSIVE")
        paths: dict[str, Callable[[], tuple[float, float]]] = {
            "revoice HTTP (threads wait passively: now)": lambda: _http(
                url, pid, "/v1/audio/transcriptions", files=files
            ),
            "revoice HTTP (OpenMP's default spin: before)": lambda: _http(
                old_url, old_pid, "/v1/audio/transcriptions", files=files
            ),
            "Pipeline.transcribe in process": lambda: pipeline(path=str(CLIP)),
            "bare faster-whisper (speaches' recipe)": lambda: bare(path=str(CLIP)),
        }
        try:
            for run in paths.values():
                run()  # warm
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
            with _competing_load(contended):
                for _ in range(rounds):
                    for name, run in paths.items():
                        results[name].append(run())
        finally:
            pipeline.close()
            bare.close()
    return results


def _concurrency(home: Path, log: Path) -> str:
    """4 requests at once vs the same 4 one after another, over HTTP."""
    data = CLIP.read_bytes()
    with _server(home, "PASSIVE", log) as (url, pid):
        files = {"file": ("a.wav", data, "audio/wav")}
        _http(url, pid, "/v1/audio/transcriptions", files=files)
        start = time.perf_counter()
        for _ in range(4):
            _http(url, pid, "/v1/audio/transcriptions", files=files)
        sequential = time.perf_counter() - start

        def one(delay: float) -> float:
            time.sleep(delay)
            began = time.perf_counter()
            _http(url, pid, "/v1/audio/transcriptions", files=files)
            return time.perf_counter() - began

        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            latencies = list(pool.map(one, [0.0, 0.05, 0.1, 0.15]))
        together = time.perf_counter() - start
    shown = ", ".join(f"{x:.1f}" for x in latencies)
    return (
        f"4 transcriptions at once took {together:.1f} s against {sequential:.1f} s one after "
        f"another: throughput ratio {sequential / together:.2f}; latency per request in order "
        f"of arrival: {shown} s."
    )
