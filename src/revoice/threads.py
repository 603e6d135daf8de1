"""How the engines' thread pools wait between steps (the thread budget of one process).

CTranslate2 (Whisper) runs on OpenMP (libgomp). By default an OpenMP thread busy-waits for a
while after each parallel step, and every thread that calls into CTranslate2 gets a team of its
own: a server, whose requests run on several worker threads, ends up with several teams
spinning against the one doing the work. With two other busy processes on this 2-core machine
that made HTTP transcription take 1.57x the time and 1.83x the CPU of the same call in process;
with passive waiting (threads sleep until there is work) 1.01x and 1.09x. On an idle machine
spinning is quicker: 0.51 s against 0.82-0.94 s for 7 s of speech on 2026-12-07, when with two
busy processes beside it passive took 0.86-0.94 s and spinning 2.3-3.0 s (BENCHMARKS.md,
"server overhead"; a GOMP_SPINCOUNT of 10,000 or 100,000 spins was as bad as the default under
load, so there is no middle setting). A shared server is the
normal case, so passive is the default; `REVOICE_SPIN=true` asks for busy-waiting, and an
`OMP_WAIT_POLICY` set in the environment always wins. ONNX Runtime (Kokoro, Piper) follows the same
setting.

How many threads one transcription gets is the other half of the budget. A server runs up to
`concurrency` engine jobs at once, but one CTranslate2 model replica decodes one job at a time,
with a team of threads over every core: the others queue behind it. So Whisper gets a replica
per concurrent job on CPU (`asr.workers`), and when `asr.cpu_threads` is 0 each its share of the
cores (`per_job`: cores // concurrency, at least 1). On this 2-core machine (7 s of speech, in
process, 2026-12-07) one transcription then took 0.54 s instead of 0.85 s (with passive waiting
one thread is quicker than two that sleep and wake at every step), and four at once 1.23 s
instead of 3.28 s, where four in turn take 2.2 s. ONNX voices keep every core: one Kokoro
sentence took 2.64 s on one thread against 1.75 s on two, and four at once as long either way.

OpenMP reads its policy once, when CTranslate2's library loads, so `configure` runs before any
engine does (the model cache calls it).
"""

from __future__ import annotations

import os


def configure(spin: bool) -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "ACTIVE" if spin else "PASSIVE")


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def per_job(setting: int, jobs: int) -> int:
    """Threads for one engine job: `setting`, or when it is 0 the cores shared out among the
    `jobs` that may run at once."""
    if setting > 0:
        return setting
    return max(1, cores() // max(1, jobs))


def spinning() -> bool:
    """Whether engine thread pools busy-wait (as configured, or as the environment says)."""
    return os.environ.get("OMP_WAIT_POLICY", "PASSIVE").upper() == "ACTIVE"
