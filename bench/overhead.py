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
import ssl
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
from revoice.threads import cores
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
elif mode == "convert":
    from revoice.audio import Audio
    def run(audio):
        return Audio.concat(list(pipeline.convert(audio, "english-male-1").speech)).duration
elif mode == "convert_live":
    from revoice.audio import Audio
    def run(audio):
        live = pipeline.convert_live(audio, "english-male-1")
        return sum(e.duration for e in live.events() if isinstance(e, Audio))
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


BEFORE = {  # the thread recipe before revoice.threads: one Whisper replica, a thread per core
    "REVOICE_ASR__WORKERS": "1",
    "REVOICE_ASR__CPU_THREADS": str(cores()),
}


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
def _server(
    home: Path, policy: str, log: Path, extra: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "revoice", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**_env(home, policy), **(extra or {})},
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


Samples = dict[str, list[tuple[float, float]]]


def _ratio_rows(
    table: Table, results: Samples, base_of: Callable[[str], str], contended: bool
) -> None:
    """A row per path: median wall and CPU seconds, and both against the path it is
    compared with."""
    for name, samples in results.items():
        base = results[base_of(name)]
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        table.add(
            "2 busy processes" if contended else "quiet",
            name,
            wall,
            cpu,
            f"{wall / statistics.median(w for w, _ in base):.2f}",
            f"{cpu / statistics.median(c for _, c in base):.2f}",
        )


def _alternate(
    paths: dict[str, Callable[[], tuple[float, float]]], rounds: int, contended: bool
) -> Samples:
    """Each path once to warm it, then `rounds` rounds of every path in turn."""
    for run in paths.values():
        run()
    results: Samples = {name: [] for name in paths}
    with _competing_load(contended):
        for _ in range(rounds):
            for name, run in paths.items():
                results[name].append(run())
    return results


def server_overhead(home: Path, rounds: int, log: Path) -> Table:
    table = Table(
        "Server overhead (transcription, librivox-0870, 7 s, Whisper base int8)",
        ["load", "path", "median s", "median CPU-s", "x in process (s)", "x in process (CPU)"],
    )
    for contended in (False, True):
        results = _measure(home, log, contended, rounds)
        _ratio_rows(table, results, lambda _: "Pipeline.transcribe in process", contended)
    table.notes.append(
        f"{rounds} requests per path, alternating; CPU seconds of the serving process. "
        "'now' is a revoice serve with its defaults: engine threads wait passively, and "
        "Whisper has a replica per concurrent job with its share of the cores "
        "(revoice.threads). 'before' is one with the earlier recipe: OpenMP's own default "
        "(threads spin a while after each step) and one replica whose team of threads takes "
        "every core. 'quiet' has no other load than the benchmark."
    )
    table.notes.append(_concurrency(home, log))
    return table


def _measure(
    home: Path, log: Path, contended: bool, rounds: int
) -> dict[str, list[tuple[float, float]]]:
    files = {"file": ("a.wav", CLIP.read_bytes(), "audio/wav")}
    with (
        _server(home, "PASSIVE", log) as (url, pid),
        _server(home, "", log, BEFORE) as (old_url, old_pid),
    ):
        pipeline, bare = Worker("pipeline", home, "PASSIVE"), Worker("bare", home, "PASSIVE")
        paths: dict[str, Callable[[], tuple[float, float]]] = {
            "revoice HTTP (now)": lambda: _http(url, pid, "/v1/audio/transcriptions", files=files),
            "revoice HTTP (before: spin, one replica, all cores)": lambda: _http(
                old_url, old_pid, "/v1/audio/transcriptions", files=files
            ),
            "Pipeline.transcribe in process": lambda: pipeline(path=str(CLIP)),
            "bare faster-whisper (speaches' recipe)": lambda: bare(path=str(CLIP)),
        }
        try:
            results = _alternate(paths, rounds, contended)
        finally:
            pipeline.close()
            bare.close()
    return results


def _concurrency(home: Path, log: Path, trials: int = 3) -> str:
    """4 requests at once vs the same 4 one after another, over HTTP, `trials` times for the
    spread, with the defaults and with the earlier recipe."""
    files = {"file": ("a.wav", CLIP.read_bytes(), "audio/wav")}
    lines = []
    for label, policy, extra in (("now", "PASSIVE", None), ("before", "", BEFORE)):
        ratios: list[float] = []
        runs: list[tuple[float, float, list[float]]] = []
        with _server(home, policy, log, extra) as (url, pid):
            _http(url, pid, "/v1/audio/transcriptions", files=files)

            def one(delay: float, url: str = url, pid: int = pid) -> float:
                time.sleep(delay)
                began = time.perf_counter()
                _http(url, pid, "/v1/audio/transcriptions", files=files)
                return time.perf_counter() - began

            for _ in range(trials):
                start = time.perf_counter()
                for _ in range(4):
                    one(0.0)
                sequential = time.perf_counter() - start
                start = time.perf_counter()
                with ThreadPoolExecutor(4) as pool:
                    latencies = list(pool.map(one, [0.0, 0.05, 0.1, 0.15]))
                together = time.perf_counter() - start
                ratios.append(sequential / together)
                runs.append((sequential, together, latencies))
        middle = sorted(range(trials), key=lambda k: ratios[k])[trials // 2]
        sequential, together, latencies = runs[middle]
        shown = ", ".join(f"{x:.1f}" for x in latencies)
        spread = ", ".join(f"{r:.2f}" for r in ratios)
        lines.append(
            f"{label}: throughput ratio (4 in turn / 4 at once) {spread} in {trials} trials; "
            f"the middle one took {together:.1f} s at once against {sequential:.1f} s in turn, "
            f"latency per request in order of arrival {shown} s"
        )
    return "4 transcriptions at once, quiet machine. " + "; ".join(lines) + "."


PAGE_ONE_CONTEXT = "voice to voice: page /convert (gradio_client, one TLS context)"
SPEECH_TEXT = (
    "It was the best of times, it was the worst of times. The rest of the passage follows in "
    "the same voice, sentence after sentence."
)


def door_overhead(home: Path, rounds: int, log: Path) -> Table:
    """Speech and voice to voice: each door against the Pipeline call it makes, in process."""
    table = Table(
        "Server overhead (speech and voice to voice, english-male-1, librivox-0870 7 s)",
        ["load", "path", "median s", "median CPU-s", "x in process (s)", "x in process (CPU)"],
    )
    for contended in (False, True):
        results, pairs = _measure_doors(home, log, contended, rounds)
        _ratio_rows(table, results, pairs.__getitem__, contended)
    table.notes.append(
        f"{rounds} requests per path, alternating; CPU seconds of the serving process; the whole "
        "answer read (wav). Each door is compared with the Pipeline call it makes: "
        "`/v1/audio/speech` with `Pipeline.speak`, `/v1/audio/voice-to-voice` with "
        "`Pipeline.convert`, the page's `/convert` (gradio_client, transcribe step) with "
        "`Pipeline.convert_live` (the page speaks each sentence as it is heard). gradio_client "
        "as it comes builds a new httpx client for each of its five requests (upload, queue "
        "join, event stream, two downloads), and each loads the CA bundle even for an "
        "http:// address; the one-TLS-context row gives it "
        "`ssl_verify=ssl.create_default_context()` (docs/clients.md), which httpx reuses."
    )
    return table


def _measure_doors(
    home: Path, log: Path, contended: bool, rounds: int
) -> tuple[dict[str, list[tuple[float, float]]], dict[str, str]]:
    from gradio_client import Client, handle_file

    files = {"file": ("a.wav", CLIP.read_bytes(), "audio/wav")}
    speech = {
        "model": "tts-1",
        "voice": "english-male-1",
        "input": SPEECH_TEXT,
        "response_format": "wav",
    }
    with _server(home, "PASSIVE", log) as (url, pid):
        speak = Worker("speak", home, "PASSIVE")
        convert, live = Worker("convert", home, "PASSIVE"), Worker("convert_live", home, "PASSIVE")
        # gradio_client as it comes, and with one TLS context for all its requests (the
        # recipe docs/clients.md gives): as it comes, each of its five requests builds an
        # httpx client that loads the CA bundle, even for an http:// address
        page = Client(url + "/", verbose=False)
        page_one_context = Client(
            url + "/",
            verbose=False,
            ssl_verify=ssl.create_default_context(),  # type: ignore[arg-type]
        )

        def page_convert(client: Client) -> tuple[float, float]:
            cpu, start = _cpu(pid), time.perf_counter()
            client.predict(
                handle_file(str(CLIP)),
                "english-male-1",
                "auto",
                "transcribe",
                1.0,
                "",
                api_name="/convert",
            )
            return time.perf_counter() - start, _cpu(pid) - cpu

        paths: dict[str, Callable[[], tuple[float, float]]] = {
            "speech: HTTP /v1/audio/speech": lambda: _http(
                url, pid, "/v1/audio/speech", json=speech
            ),
            "speech: Pipeline.speak in process": lambda: speak(text=SPEECH_TEXT),
            "voice to voice: HTTP /v1/audio/voice-to-voice": lambda: _http(
                url,
                pid,
                "/v1/audio/voice-to-voice",
                files=files,
                data={"voice": "english-male-1", "response_format": "wav"},
            ),
            "voice to voice: Pipeline.convert in process": lambda: convert(path=str(CLIP)),
            "voice to voice: page /convert (gradio_client)": lambda: page_convert(page),
            PAGE_ONE_CONTEXT: lambda: page_convert(page_one_context),
            "voice to voice: Pipeline.convert_live in process": lambda: live(path=str(CLIP)),
        }
        pairs = {
            "speech: HTTP /v1/audio/speech": "speech: Pipeline.speak in process",
            "speech: Pipeline.speak in process": "speech: Pipeline.speak in process",
            "voice to voice: HTTP /v1/audio/voice-to-voice": (
                "voice to voice: Pipeline.convert in process"
            ),
            "voice to voice: Pipeline.convert in process": (
                "voice to voice: Pipeline.convert in process"
            ),
            "voice to voice: page /convert (gradio_client)": (
                "voice to voice: Pipeline.convert_live in process"
            ),
            PAGE_ONE_CONTEXT: "voice to voice: Pipeline.convert_live in process",
            "voice to voice: Pipeline.convert_live in process": (
                "voice to voice: Pipeline.convert_live in process"
            ),
        }
        try:
            results = _alternate(paths, rounds, contended)
        finally:
            for worker in (speak, convert, live):
                worker.close()
    return results, pairs
