"""What every TTS engine provides, and the helpers they share."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from revoice.audio import Audio
from revoice.errors import VoiceConfigError
from revoice.types import SPEED, Gender, SynthesisOptions, Voice

if TYPE_CHECKING:
    from revoice.config import Settings


class Synthesizer(Protocol):
    """Speaks text in a voice, one chunk per sentence (or clause), so playback can start early.

    An engine's class also says which voices it has and how a voices file describes one of
    its own (the catalogue asks the engine table, never an engine by name): `voices`,
    `user_voice`, `voice_file` and `blends` below, as static methods and a class flag."""

    #: whether a voice of this engine may mix styles (`blend = {style = weight}`)
    blends: ClassVar[bool]

    def load(self) -> None:
        """Load the engine's models (idempotent)."""

    def synthesize(self, text: str, voice: Voice, options: SynthesisOptions) -> Iterator[Audio]:
        """Yield the speech for `text` in order; the chunks together say all of it."""
        ...

    @staticmethod
    def voices(settings: Settings) -> list[Voice]:
        """The engine's own catalogue entries here (shipped, or installed on this system)."""
        ...

    @staticmethod
    def user_voice(spec: Mapping[str, Any], common: UserVoice) -> Voice:
        """A voices-file table of this engine (its engine-specific keys, such as `model` or
        `blend`) on top of what every voice says (`common`); VoiceConfigError if wrong."""
        ...

    @staticmethod
    def voice_file(voice: Voice) -> str | None:
        """The file a user voice of this engine reads (confined to the voice directories),
        or None."""
        ...


@dataclass(frozen=True)
class UserVoice:
    """What every voices-file table says, already checked; `where` starts each message."""

    id: str
    where: str
    languages: tuple[str, ...]
    gender: Gender
    description: str
    speed: float

    def error(self, message: str) -> VoiceConfigError:
        return VoiceConfigError(f"{self.where}: {message}")

    def voice(self, engine: str, sample_rate: int, base: str) -> Voice:
        """The user's voice of `engine`, speaking from `base` at `sample_rate`."""
        return Voice(
            self.id,
            engine,
            self.languages,
            self.gender,
            sample_rate,
            self.description,
            base=base,
            speed=self.speed,
            source="user",
        )


def effective_speed(voice: Voice, options: SynthesisOptions) -> float:
    """The voice's own speed scaled by the call's, kept within what engines can do."""
    speed = voice.speed * (options.speed if options.speed is not None else 1.0)
    return SPEED.clamp(speed)


def trim_silence(
    samples: np.ndarray, sample_rate: int, threshold: float = 0.01, pad_seconds: float = 0.04
) -> np.ndarray:
    """Cut leading and trailing near-silence, keeping a little padding around the speech."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if len(loud) == 0:
        return samples[:0]
    pad = int(pad_seconds * sample_rate)
    return samples[max(0, loud[0] - pad) : loud[-1] + pad]


def with_pause(samples: np.ndarray, sample_rate: int, pause: float) -> Audio:
    """A chunk followed by `pause` seconds of silence (the gap between sentences)."""
    gap = np.zeros(int(pause * sample_rate), dtype=np.float32)
    return Audio(np.concatenate([samples.astype(np.float32), gap]), sample_rate)


def onnx_providers(device: str) -> list[str]:
    """ONNX Runtime providers for a device setting: CUDA when asked for or available."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    if device in ("auto", "cuda") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def session_options(threads: int) -> object:
    import onnxruntime

    from revoice.threads import spinning

    opts = onnxruntime.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    # idle pool threads sleep rather than spin, as CTranslate2's do (see revoice.threads)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning() else "0")
    return opts
