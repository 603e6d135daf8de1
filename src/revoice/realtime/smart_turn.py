"""Smart Turn v3.2: does the speech so far sound like a finished turn? (`semantic_vad`)

A small Whisper-encoder classifier by Daily (pipecat), shipped here as its 8.7 MB CPU ONNX
model (`revoice/data/smart-turn-v3.2-cpu.onnx`, from the `pipecat-ai` 1.14.0 wheel, BSD
2-Clause License: `revoice/data/LICENSE.smart-turn`). It hears the last 8 s of a turn, up to a
pause, and gives the probability that the speaker has finished: intonation and words together,
in 23 languages. One decision takes about a tenth of a second of one core.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from revoice.errors import EngineUnavailable
from revoice.realtime.smart_turn_features import compute_whisper_log_mel_features

MODEL = Path(__file__).resolve().parent.parent / "data" / "smart-turn-v3.2-cpu.onnx"
SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
RATE = 16000
SECONDS = 8


@functools.lru_cache(maxsize=1)
def _session() -> Any:
    """The model's ONNX Runtime session, once per process (its `run` is thread-safe)."""
    import onnxruntime as ort

    try:
        data = MODEL.read_bytes()
    except OSError as exc:
        raise EngineUnavailable(f"the Smart Turn model is missing: {exc}") from None
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise EngineUnavailable(f"the Smart Turn model {MODEL} is damaged (sha256 mismatch)")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a decision is small: one core, never all of them
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])


def load() -> None:
    """Load the model now (a missing or damaged model fails here)."""
    _session()


def finished(samples: np.ndarray) -> float:
    """The probability that 16 kHz speech ending at `samples[-1]` is a finished turn."""
    tail = samples[-RATE * SECONDS :].astype(np.float32, copy=False)
    if len(tail) < RATE * SECONDS:  # the model hears 8 s: silence in front of a short turn
        tail = np.pad(tail, (RATE * SECONDS - len(tail), 0))
    features = compute_whisper_log_mel_features(tail, do_normalize=True)[None]
    out = _session().run(None, {"input_features": features})
    return float(np.asarray(out[0]).reshape(-1)[0])
