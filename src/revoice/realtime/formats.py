"""Audio on the wire of the Realtime protocol: pcm16 (24 kHz by default), G.711 mu-law, A-law.

GA sessions name a format as an object (`{"type": "audio/pcm", "rate": 24000}`), beta ones as a
string (`"pcm16"`, `"g711_ulaw"`, `"g711_alaw"`); both are read here. Audio crosses this module
as float32 samples; everything else in revoice sees `Audio`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from revoice.errors import InvalidOption

Kind = Literal["audio/pcm", "audio/pcmu", "audio/pcma"]
_BETA: dict[str, Kind] = {
    "pcm16": "audio/pcm",
    "g711_ulaw": "audio/pcmu",
    "g711_alaw": "audio/pcma",
}
_KINDS: tuple[Kind, ...] = ("audio/pcm", "audio/pcmu", "audio/pcma")
#: pcm rates accepted (the spec names 24000; other common rates are a revoice extension)
PCM_RATES = (8000, 16000, 22050, 24000, 44100, 48000)


def _ulaw_table() -> np.ndarray:
    """Linear value of each mu-law byte (ITU-T G.711), scaled to [-1, 1]."""
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return (np.where(codes & 0x80, -magnitude, magnitude) / 32768.0).astype(np.float32)


def _alaw_table() -> np.ndarray:
    """Linear value of each A-law byte (ITU-T G.711), scaled to [-1, 1]."""
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return (np.where(codes & 0x80, magnitude, -magnitude) / 32768.0).astype(np.float32)


_DECODE = {"audio/pcmu": _ulaw_table(), "audio/pcma": _alaw_table()}
# encoding: the byte whose value is nearest, found by binary search over the sorted values
_ORDER = {kind: np.argsort(table, kind="stable") for kind, table in _DECODE.items()}


@dataclass(frozen=True)
class AudioFormat:
    kind: Kind = "audio/pcm"
    rate: int = 24000

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.kind == "audio/pcm" else 1

    def decode(self, data: bytes) -> np.ndarray:
        """float32 samples of `data`; InvalidOption when it cannot be this format."""
        if self.kind == "audio/pcm":
            if len(data) % 2:
                raise InvalidOption(
                    "pcm16 audio must be a whole number of 16-bit samples (an even byte count)",
                    "audio",
                )
            return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        return _DECODE[self.kind][np.frombuffer(data, dtype=np.uint8)]

    def encode(self, samples: np.ndarray) -> bytes:
        clipped = np.clip(samples, -1.0, 1.0)
        if self.kind == "audio/pcm":
            return (clipped * 32767.0).astype("<i2").tobytes()
        table, order = _DECODE[self.kind], _ORDER[self.kind]
        ranked = table[order]
        index = np.clip(np.searchsorted(ranked, clipped), 1, len(ranked) - 1)
        nearer_low = (clipped - ranked[index - 1]) < (ranked[index] - clipped)
        return order[np.where(nearer_low, index - 1, index)].astype(np.uint8).tobytes()

    def seconds(self, byte_count: int) -> float:
        return byte_count / self.bytes_per_sample / self.rate

    def describe(self) -> dict[str, Any]:
        """The GA format object."""
        if self.kind == "audio/pcm":
            return {"type": self.kind, "rate": self.rate}
        return {"type": self.kind}


def parse_format(value: Any, param: str) -> AudioFormat:
    """A GA format object or a beta format name."""
    if isinstance(value, str):
        kind = _BETA.get(value)
        if kind is None:
            raise InvalidOption(
                f"{param} must be one of {', '.join(_BETA)} or a format object", param
            )
        return AudioFormat(kind, 24000 if kind == "audio/pcm" else 8000)
    if not isinstance(value, dict):
        raise InvalidOption(f"{param} must be an object such as {{'type': 'audio/pcm'}}", param)
    kind = value.get("type", "audio/pcm")
    if kind not in _KINDS:
        raise InvalidOption(f"{param}.type must be one of: {', '.join(_KINDS)}", f"{param}.type")
    if kind != "audio/pcm":
        return AudioFormat(kind, 8000)
    rate = value.get("rate", 24000)
    if rate not in PCM_RATES or isinstance(rate, bool):
        rates = ", ".join(str(r) for r in PCM_RATES)
        raise InvalidOption(f"{param}.rate must be one of: {rates}", f"{param}.rate")
    return AudioFormat("audio/pcm", int(rate))
