"""The server under load over loopback: a real `revoice serve` process, several clients."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.harness import Table
from tests.helpers import HUMAN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`revoice serve` on 127.0.0.1 in a subprocess, with its peak RSS readable."""

    def __init__(self, home: Path, log: Path, args: tuple[str, ...] = ()) -> None:
        self.ray = "--ray" in args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("REVOICE_")}
        env.update(
            REVOICE_HOME=str(home),
            REVOICE_VOICES=str(home / "none.toml"),
            GRADIO_ANALYTICS_ENABLED="False",
            NO_PROXY="127.0.0.1,localhost",
            REVOICE_CONCURRENCY="2",
        )
        exe = Path(sys.executable).parent / "revoice"
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("revoice serve exited during start-up")
            try:
                health = httpx.get(f"{self.url}/health", timeout=2).json()
                # plain: the warm-up loaded ASR and TTS; Ray: the replicas load before the
                # ingress answers
                if self.ray or len(health.get("loaded", [])) >= 2:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError("revoice serve did not become healthy")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


CLIPS = ["librivox-0880.wav", "cards-003.wav", "forever.wav", "librivox-0930.wav"]


def _one(url: str, index: int) -> float:
    data = (HUMAN / CLIPS[index % len(CLIPS)]).read_bytes()
    start = time.perf_counter()
    reply = httpx.post(
        f"{url}/v1/audio/voice-to-voice",
        timeout=300,
        files={"file": ("in.wav", data, "audio/wav")},
        data={"voice": "english-male-1", "response_format": "wav"},
    )
    reply.raise_for_status()
    assert reply.headers["x-revoice-transcript"]
    return time.perf_counter() - start


def _p95(latencies: list[float]) -> float:
    """The 95th percentile of sorted latencies."""
    return latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]


def burst(url: str, clients: int, total: int) -> tuple[int, float, float, float, int]:
    """`total` voice-to-voice requests, `clients` at a time: (requests, p50 s, p95 s,
    throughput req/s, errors)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(_one, url, i) for i in range(total)]
    wall = time.perf_counter() - start
    latencies = sorted(f.result() for f in futures if f.exception() is None)
    errors = sum(1 for f in futures if f.exception() is not None)
    return total, statistics.median(latencies), _p95(latencies), total / wall, errors


def load(home: Path, levels: list[int], rounds: int, log: Path) -> Table:
    table = Table(
        "Server under load: voice-to-voice over loopback HTTP",
        ["concurrent clients", "requests", "p50 s", "p95 s", "throughput req/s", "errors"],
    )
    server = Server(home, log)
    try:
        server.wait()
        _one(server.url, 0)  # warm
        for level in levels:
            table.add(level, *burst(server.url, level, level * rounds))
        table.notes.append(
            f"Server peak RSS with the default models loaded and serving: "
            f"{server.peak_rss_mb():.0f} MiB."
        )
        table.notes.append(
            f"Clips: {', '.join(CLIPS)} (1.5-3.3 s each), voice english-male-1, "
            "REVOICE_CONCURRENCY=2."
        )
    finally:
        server.stop()
    return table


def ray_vs_plain(home: Path, clients: int, rounds: int, log: Path) -> Table:
    """The same burst of voice-to-voice requests on `revoice serve` and on `revoice serve
    --ray` (Ray started on this machine, one replica per deployment), one after the other."""
    table = Table(
        f"Ray Serve versus plain serve: {clients} concurrent voice-to-voice requests",
        ["server", "requests", "p50 s", "p95 s", "throughput req/s", "errors", "ratio"],
    )
    rows: list[tuple[str, tuple[int, float, float, float, int]]] = []
    for name, args in (("revoice serve", ()), ("revoice serve --ray", ("--ray",))):
        server = Server(home, log.with_suffix(f".{'ray' if args else 'plain'}.log"), args)
        try:
            server.wait(timeout=300)
            _one(server.url, 0)  # warm
            rows.append((name, burst(server.url, clients, clients * rounds)))
        finally:
            server.stop()
    for name, row in rows:
        table.add(name, *row, row[3] / rows[0][1][3])
    table.notes.append(
        "Ratio: throughput relative to plain serve, measured in the same run. Both use the same "
        "models and clips; Ray runs ingress, asr, tts-* and text as separate processes (one "
        "replica each), so on one machine it adds hops and processes, not cores."
    )
    return table


def soak(
    url: str, seconds: float, clients: int, max_requests: int = 10_000
) -> tuple[list[float], int]:
    """`clients` threads sending voice-to-voice requests for `seconds` (bounded in count too):
    (latencies of the successful ones, number of errors)."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors = 0
    counter = iter(range(max_requests))

    def client() -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            index = next(counter, None)
            if index is None:
                return
            try:
                latencies.append(_one(url, index))
            except Exception:
                errors += 1

    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(client)
    return sorted(latencies), errors


def soak_table(home: Path, seconds: float, clients: int, log: Path) -> Table:
    table = Table(
        f"Soak: {clients} clients for {seconds:.0f} s over loopback",
        ["requests", "errors", "p50 s", "p95 s", "throughput req/s"],
    )
    server = Server(home, log)
    try:
        server.wait()
        start = time.perf_counter()
        latencies, errors = soak(server.url, seconds, clients)
        wall = time.perf_counter() - start
        table.add(
            len(latencies),
            errors,
            statistics.median(latencies),
            _p95(latencies),
            len(latencies) / wall,
        )
    finally:
        server.stop()
    return table
