"""Whisper through openai-whisper (PyTorch): the seed design's engine, over the whole recording.

The seed decoded one padded 30 s window and lost the rest. Here `whisper.transcribe` walks the
whole recording window by window; with VAD on (the default) Silero VAD (shipped with
faster-whisper) finds the speech and only those stretches are decoded (`clip_timestamps`), so
timestamps stay those of the input and nothing is invented on silence. Language detection, the
Hindi prompt and the translate task behave as in the default engine.

The model is `whisper.load_model(name_or_path)`: an official name (default "medium", as in the
seed) read from openai-whisper's cache (~/.cache/whisper), downloaded only when allowed, or a
checkpoint file ({"dims", "model_state_dict"}).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from revoice.asr.base import HINDI_PROMPT, WHISPER_RATE, TranscriptStream, settle_language
from revoice.audio import Audio
from revoice.config import Settings
from revoice.device import hub_offline, place, require
from revoice.errors import EngineUnavailable, UnknownModel
from revoice.types import Segment, TranscribeOptions, Transcript, Word


def default_root() -> Path:
    """Where openai-whisper caches named models."""
    cache = os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    return Path(cache) / "whisper"


class OpenAIWhisperTranscriber:
    def __init__(self, settings: Settings, model: str | None = None) -> None:
        require("openai-whisper", "openai-whisper", "torch", "whisper")
        self._settings = settings
        asr = settings.asr
        # asr.model defaults to faster-whisper's shipped "base"; left at that default, this
        # engine uses its own default ("medium", the seed's model)
        default = "model" not in asr.model_fields_set
        if model is None or (default and model == asr.model):
            model = settings.openai_whisper.model if default else asr.model
        self.model_name = model
        self._model: Any = None
        self._fp16 = False
        self._lock = threading.Lock()  # loading
        self._run = threading.Lock()  # decoding installs hooks on the shared model

    def _source(self) -> str:
        """What to hand whisper.load_model: a checkpoint path, or a cached official name."""
        import whisper

        cfg = self._settings.openai_whisper
        name = self.model_name
        path = Path(name).expanduser()
        if path.is_file():
            return str(path)
        urls: dict[str, str] = whisper._MODELS
        if name not in urls:
            raise UnknownModel(
                name, whisper.available_models(), "or give a Whisper checkpoint file (.pt)"
            )
        root = cfg.download_root or default_root()
        if (root / os.path.basename(urls[name])).is_file():
            return name
        if cfg.allow_download and not hub_offline():
            return name
        raise EngineUnavailable(
            f"Whisper model {name!r} is not in {root}; with network, fetch it once "
            f"(python -c \"import whisper; whisper.load_model('{name}')\") or set "
            "REVOICE_OPENAI_WHISPER__ALLOW_DOWNLOAD=true; or set REVOICE_ASR__MODEL to a "
            "checkpoint file"
        )

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            import whisper

            cfg = self._settings.openai_whisper
            source = self._source()
            placement = place(
                self._settings.asr.device, cfg.precision, setting="REVOICE_ASR__DEVICE"
            )
            root = cfg.download_root or default_root()
            try:
                model = whisper.load_model(source, device=placement.device, download_root=str(root))
            except Exception as exc:  # corrupt checkpoint, failed download, out of memory
                raise EngineUnavailable(
                    f"cannot load Whisper model {self.model_name!r}: {exc}"
                ) from None
            self._fp16 = placement.cuda and str(placement.dtype) == "torch.float16"
            self._model = model.eval()

    @property
    def multilingual(self) -> bool:
        self.load()
        return bool(self._model.is_multilingual)

    def _clips(self, samples: np.ndarray) -> list[tuple[int, int]]:
        """(start, end) sample indices of the speech in `samples` (Silero VAD)."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        stamps = get_speech_timestamps(samples, VadOptions())
        return [(int(s["start"]), int(s["end"])) for s in stamps]

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        self.load()
        samples = audio.resample(WHISPER_RATE).samples
        clips = self._clips(samples)
        speech = np.concatenate([samples[a:b] for a, b in clips]) if clips else samples[:0]
        return self._detect(speech)

    def _detect(self, speech: np.ndarray) -> tuple[str, float]:
        import torch
        import whisper

        if not self._model.is_multilingual:
            return "en", 1.0
        if len(speech) < WHISPER_RATE // 10:
            return "en", 0.0
        window = whisper.pad_or_trim(torch.from_numpy(speech[: 30 * WHISPER_RATE].copy()))
        mel = whisper.log_mel_spectrogram(window, self._model.dims.n_mels)
        mel = mel.to(self._model.device, torch.float16 if self._fp16 else torch.float32)
        with self._run, torch.inference_mode():
            _, probs = self._model.detect_language(mel)
        language = max(probs, key=probs.get)
        return str(language), float(probs[language])

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcript:
        return self.stream(audio, options).collect()

    def stream(self, audio: Audio, options: TranscribeOptions) -> TranscriptStream:
        """The whole recording; openai-whisper decodes it in one call, so segments arrive
        together when the first is asked for."""
        self.load()
        samples = np.ascontiguousarray(audio.resample(WHISPER_RATE).samples, dtype=np.float32)
        duration = len(samples) / WHISPER_RATE
        multilingual = bool(self._model.is_multilingual)
        language = options.language if multilingual else "en"
        task = options.task if multilingual else "transcribe"
        clips = self._clips(samples) if options.vad else [(0, len(samples))]
        speech = sum(b - a for a, b in clips)
        if speech < WHISPER_RATE // 10:  # no speech at all: nothing to decode
            return TranscriptStream(language or "en", 0.0, duration, options.task, iter(()))
        probability = 1.0
        if language is None:
            joined = np.concatenate([samples[a:b] for a, b in clips])
            detected, probability = self._detect(joined)
            language = settle_language(detected, probability, options.hint)
        prompt = options.prompt
        if prompt is None and language == "hi" and task == "transcribe":
            prompt = HINDI_PROMPT
        beam = options.beam_size or self._settings.asr.beam_size
        kwargs: dict[str, Any] = dict(
            language=language,
            task=task,
            initial_prompt=prompt,
            word_timestamps=options.word_timestamps,
            fp16=self._fp16,
            beam_size=beam,
            best_of=beam,
            verbose=None,  # no printing, no progress bar
            clip_timestamps=[t / WHISPER_RATE for clip in clips for t in clip],
        )
        if options.temperature is not None:
            kwargs["temperature"] = options.temperature
        return TranscriptStream(
            language, probability, duration, options.task, self._segments(samples, kwargs)
        )

    def _segments(self, samples: np.ndarray, kwargs: dict[str, Any]) -> Iterator[Segment]:
        import torch
        import whisper

        with self._run, torch.inference_mode():
            result = whisper.transcribe(self._model, samples, **kwargs)
        kept = [s for s in result["segments"] if str(s.get("text", "")).strip()]
        for index, raw in enumerate(kept):
            yield _segment(index, raw)


def _segment(index: int, raw: dict[str, Any]) -> Segment:
    words = tuple(
        Word(float(w["start"]), float(w["end"]), str(w["word"]), float(w["probability"]))
        for w in raw.get("words") or ()
    )
    return Segment(
        id=index,
        start=float(raw["start"]),
        end=float(raw["end"]),
        text=str(raw["text"]).strip(),
        avg_logprob=float(raw.get("avg_logprob", 0.0)),
        no_speech_prob=float(raw.get("no_speech_prob", 0.0)),
        words=words,
        tokens=tuple(int(t) for t in raw.get("tokens") or ()),
        compression_ratio=_optional(raw.get("compression_ratio")),
        temperature=_optional(raw.get("temperature")),
        seek=int(raw.get("seek") or 0),
    )


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)
