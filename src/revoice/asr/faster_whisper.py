"""Whisper through faster-whisper (CTranslate2), with the shipped base and tiny.en models.

The whole recording is transcribed: Silero VAD (shipped with faster-whisper) cuts it into
speech chunks of at most 30 s, which are decoded in batches; silence is never decoded, so
nothing is invented on it.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from revoice import assets, registry
from revoice.asr.base import HINDI_PROMPT, WHISPER_RATE, TranscriptStream, settle_language
from revoice.audio import Audio
from revoice.config import Settings
from revoice.errors import EngineUnavailable, UnknownModel
from revoice.threads import per_job
from revoice.types import Segment, TranscribeOptions, Transcript, Word

#: models that ship inside packages, by name
SHIPPED = registry.get("faster-whisper", "asr").models


def resolve_model(name: str, home: Path, allow_download: bool) -> tuple[str, bool]:
    """(what to hand WhisperModel, whether it may download) for a model setting."""
    if name == "base":
        return str(assets.whisper_base_dir(home)), False
    if name == "tiny.en":
        return str(assets.whisper_tiny_en_dir()), False
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise UnknownModel(name, SHIPPED, "a model directory must hold a CTranslate2 model.bin")
        return str(path), False
    if allow_download:
        return name, True
    return name, False


FRAMES_PER_SECOND = 100  # Whisper's mel frames
_full_window = threading.local()


def _encode_short_windows(model: Any, min_seconds: float) -> None:
    """Encode each window at the length of its audio (at least `min_seconds`, plus a second),
    not padded to 30 s.

    faster-whisper pads every window's mel features with zeros to 3,000 frames (30 s) before
    the encoder, whose attention costs grow with the square of its length: 5 s of speech
    encode about 8x faster at their own length. The padding is exact zeros, appended after
    the log-mel of the real audio (whose frames are never all zero), so the frames in use are
    known; the decoder works on whatever encoder output it is given. Measured on the human
    clips (BENCHMARKS.md): the same or lower WER, a fraction of the CPU.
    """
    if min_seconds >= 30:
        return
    full = model.encode
    least = round(min_seconds * FRAMES_PER_SECOND)

    def encode(features: np.ndarray) -> Any:
        if getattr(_full_window, "on", False):
            return full(features)
        end = max(_used_seconds(features), 0.01)
        frames = max(least, math.ceil(end) * FRAMES_PER_SECOND + 100)
        if frames >= features.shape[-1]:
            return full(features)
        return full(np.ascontiguousarray(features[..., :frames]))

    model.encode = encode


def _used_seconds(features: np.ndarray) -> float:
    """How much of a window's mel features (frames last) is audio, not zero padding."""
    used = np.flatnonzero(np.abs(features).max(axis=tuple(range(features.ndim - 1))))
    return (int(used[-1]) + 1 if len(used) else 0) / FRAMES_PER_SECOND


#: a decode whose last timestamp is further than this past the end of its audio ran away
RUNAWAY_SECONDS = 1.0


def _ran_away(tokens: list[int], seconds: float, tokenizer: Any, options: Any) -> bool:
    """Whether a window's decode went on past its audio: a timestamp beyond the end, or text
    as repetitive as faster-whisper's own fallback threshold (a sentence said over and over)."""
    from faster_whisper.transcribe import get_compression_ratio

    first = tokenizer.timestamp_begin
    stamps = [t - first for t in tokens if t >= first]
    if stamps and max(stamps) * 0.02 > seconds + RUNAWAY_SECONDS:
        return True
    threshold = options.compression_ratio_threshold
    text = tokenizer.decode([t for t in tokens if t < tokenizer.eot])
    return bool(threshold and len(text) > 40 and get_compression_ratio(text) > threshold)


def _decode_runaways_again(pipeline: Any) -> None:
    """A batched window whose decode ran away is decoded again on Whisper's own 30 s window.

    The short encoder windows (`_encode_short_windows`) leave the decoder little silence after
    the speech; now and then it does not end its text there and repeats the last sentence
    with timestamps past the audio (seen on 1 in 40 Piper readings of three sentences: "My
    sister bought a red bicycle." eight times for once, tests/data/runaway). The batched
    pipeline has no fallback of its own, so such a window is decoded once more, padded to
    30 s as Whisper was trained, which ends it where the speech ends."""
    decode = pipeline.generate_segment_batched

    def generate(features: np.ndarray, tokenizer: Any, options: Any) -> Any:
        encoder_output, outputs = decode(features, tokenizer, options)
        if getattr(_full_window, "on", False):
            return encoder_output, outputs
        for i, output in enumerate(outputs):
            if _ran_away(output["tokens"], _used_seconds(features[i]), tokenizer, options):
                _full_window.on = True
                try:
                    _, again = decode(features[i : i + 1], tokenizer, options)
                finally:
                    _full_window.on = False
                outputs[i] = again[0]
        return encoder_output, outputs

    pipeline.generate_segment_batched = generate


def _on_full_windows(segments: Iterator[Any]) -> Iterator[Any]:
    """`segments` (a lazy faster-whisper generator) decoded on 30 s windows, on whatever
    thread consumes them. The unbatched path (`vad=False`) keeps Whisper's own window: it
    has no chunk ends to check a runaway against."""
    while True:
        _full_window.on = True
        try:
            segment = next(segments)
        except StopIteration:
            return
        finally:
            _full_window.on = False
        yield segment


class FasterWhisperTranscriber:
    def __init__(self, settings: Settings, model: str | None = None) -> None:
        self._settings = settings
        self.model_name = model or settings.asr.model
        self._model: Any = None
        self._batched: Any = None
        self._lock = threading.Lock()

    @property
    def multilingual(self) -> bool:
        self.load()
        return bool(self._model.model.is_multilingual)

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from faster_whisper import BatchedInferencePipeline, WhisperModel

            cfg = self._settings.asr
            source, download = resolve_model(
                self.model_name, self._settings.home, cfg.allow_download
            )
            device = cfg.device
            if device == "auto":
                import ctranslate2

                device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
            compute = cfg.compute_type
            if compute == "default":
                compute = "float16" if device == "cuda" else "int8"
            jobs = self._settings.concurrency
            try:
                model = WhisperModel(
                    source,
                    device=device,
                    compute_type=compute,
                    # each concurrent job its own replica and its share of the cores
                    # (revoice.threads)
                    cpu_threads=per_job(cfg.cpu_threads, jobs),
                    num_workers=cfg.workers or (jobs if device == "cpu" else 1),
                    download_root=str(self._settings.home / "hub") if download else None,
                    local_files_only=not download,
                )
            except Exception as exc:  # model missing, corrupt, or hub unreachable
                hint = (
                    ""
                    if download
                    else (
                        "set REVOICE_ASR__ALLOW_DOWNLOAD=true to fetch it, "
                        "or give a model directory"
                    )
                )
                if isinstance(exc, OSError | ValueError) and not Path(source).is_dir():
                    raise UnknownModel(self.model_name, SHIPPED, hint) from None
                raise EngineUnavailable(
                    f"cannot load Whisper model {self.model_name!r}: {exc}"
                ) from None
            _encode_short_windows(model, cfg.min_window_seconds)
            self._model = model
            self._batched = BatchedInferencePipeline(model)
            if cfg.min_window_seconds < 30:
                _decode_runaways_again(self._batched)

    def _speech(self, samples: np.ndarray) -> np.ndarray:
        """Only the speech of `samples` (Silero VAD), joined."""
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        stamps = get_speech_timestamps(samples, VadOptions())
        if not stamps:
            return samples[:0]
        chunks, _ = collect_chunks(samples, stamps)
        return np.concatenate(chunks) if chunks else samples[:0]

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        self.load()
        return self._detect(self._speech(audio.resample(WHISPER_RATE).samples))

    def _detect(self, speech: np.ndarray) -> tuple[str, float]:
        if not self._model.model.is_multilingual:
            return "en", 1.0
        if len(speech) < WHISPER_RATE // 10:
            return "en", 0.0
        # on the speech's own encoder window (at least 10 s), as transcription: measured on 13
        # human clips and 6 Hindi sentences (BENCHMARKS.md, "Language detection"), the same
        # language in 19 of 19 at a fifth of the time of Whisper's 30 s
        language, probability, _ = self._model.detect_language(speech[: 30 * WHISPER_RATE])
        return str(language), float(probability)

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcript:
        return self._stream(audio, options, early=False).collect()

    def stream(self, audio: Audio, options: TranscribeOptions) -> TranscriptStream:
        """Segments as they are decoded; the first few seconds of speech are decoded on their
        own first (`asr.first_chunk_seconds`), so the first words come back early."""
        return self._stream(audio, options, early=True)

    def _stream(self, audio: Audio, options: TranscribeOptions, early: bool) -> TranscriptStream:
        self.load()
        samples = audio.resample(WHISPER_RATE).samples
        duration = len(samples) / WHISPER_RATE
        multilingual = bool(self._model.model.is_multilingual)
        language = options.language if multilingual else "en"
        task = options.task if multilingual else "transcribe"
        # Silero VAD once: for the speech to detect the language on, and as the batched
        # pipeline's chunks (`_vad_known`)
        stamps = self._speech_stamps(samples) if options.vad else None
        speech = _joined(samples, stamps) if stamps is not None else samples
        if len(speech) < WHISPER_RATE // 10:  # no speech at all: nothing to decode
            return TranscriptStream(language or "en", 0.0, duration, options.task, iter(()))
        probability = 1.0
        if language is None:
            detected, probability = self._detect(speech)
            language = settle_language(detected, probability, options.hint)
        prompt = options.prompt
        if prompt is None and language == "hi" and task == "transcribe":
            prompt = HINDI_PROMPT
        kwargs: dict[str, Any] = dict(
            language=language,
            task=task,
            beam_size=options.beam_size or self._settings.asr.beam_size,
            initial_prompt=prompt,
            word_timestamps=options.word_timestamps,
            # timestamps in batched chunks too: a segment per sentence or pause (not per 30 s
            # chunk), so live speech can start at the first one, and speech the decoder
            # skipped shows as a gap between segments (see `_complete`)
            without_timestamps=False,
        )
        if options.temperature is not None:
            kwargs["temperature"] = options.temperature
        if stamps is not None:
            head = self._head(stamps) if early else None
            if head:
                raw: Any = self._early(samples, *head, stamps, kwargs)
            else:
                with _vad_known(samples, stamps):
                    raw, _ = self._batched.transcribe(
                        samples, batch_size=self._settings.asr.batch_size, vad_filter=True, **kwargs
                    )
            raw = self._complete(samples, raw, stamps, kwargs)
        else:
            raw, _ = self._model.transcribe(samples, vad_filter=False, **kwargs)
            raw = _on_full_windows(iter(raw))
        segments = (_segment(i, s) for i, s in enumerate(raw))
        return TranscriptStream(language, probability, duration, options.task, segments)

    def _head(self, stamps: list[dict[str, int]]) -> tuple[int, int] | None:
        """(start, end) in samples of the first chunk decoded on its own: from the first
        speech to the last pause within `first_chunk_seconds` of it (or to the end of the
        first stretch of speech, if that is longer); None when that would not help."""
        limit = self._settings.asr.first_chunk_seconds * WHISPER_RATE
        if not limit:
            return None
        if len(stamps) < 2 or stamps[-1]["end"] - stamps[0]["start"] <= 1.5 * limit:
            return None  # short: one batched call is as quick
        start = int(stamps[0]["start"])
        ends = [s["end"] for s in stamps[:-1] if s["end"] - start <= limit]
        # a first stretch of speech longer than the limit is decoded alone, whole
        return start, int(ends[-1]) if ends else int(stamps[0]["end"])

    def _early(
        self,
        samples: np.ndarray,
        start: int,
        head: int,
        stamps: list[dict[str, int]],
        kwargs: dict[str, Any],
    ) -> Iterator[Any]:
        """The speech from `start` to `head` alone (one small batch), then the rest batched."""
        first, _ = self._batched.transcribe(
            samples,
            batch_size=1,
            clip_timestamps=[{"start": start / WHISPER_RATE, "end": head / WHISPER_RATE}],
            **kwargs,
        )
        yield from first
        after = samples[head:]
        later = [
            {"start": max(s["start"] - head, 0), "end": s["end"] - head}
            for s in stamps
            if s["end"] > head
        ]
        with _vad_known(after, later):
            rest, _ = self._batched.transcribe(
                after, batch_size=self._settings.asr.batch_size, vad_filter=True, **kwargs
            )
        offset = head / WHISPER_RATE
        for segment in rest:
            yield _shifted(segment, offset)

    def _complete(
        self,
        samples: np.ndarray,
        raw: Iterator[Any],
        stamps: list[dict[str, int]],
        kwargs: dict[str, Any],
    ) -> Iterator[Any]:
        """`raw` segments in order, with any stretch of speech the batched decoder skipped
        decoded on its own and put in its place. (A batched chunk is decoded in one pass: when
        Whisper ends its text early, the rest of the chunk's speech would be lost; seen on a
        recording of short phrases after long sentences.)"""
        spans = [(s["start"] / WHISPER_RATE, s["end"] / WHISPER_RATE) for s in stamps]
        covered = 0.0
        for segment in raw:
            yield from self._redo(samples, _missed(spans, covered, segment.start), kwargs)
            yield segment
            covered = max(covered, float(segment.end))
        yield from self._redo(samples, _missed(spans, covered, math.inf), kwargs)

    def _redo(
        self, samples: np.ndarray, clips: list[dict[str, float]], kwargs: dict[str, Any]
    ) -> Iterator[Any]:
        if clips:
            again, _ = self._batched.transcribe(
                samples, batch_size=1, clip_timestamps=clips, **kwargs
            )
            yield from again

    @staticmethod
    def _speech_stamps(samples: np.ndarray) -> list[dict[str, int]]:
        """Speech (start, end) in samples, with the VAD options of faster-whisper's batched
        pipeline, so the chunks match its own."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        stamps: list[dict[str, int]] = get_speech_timestamps(samples, VadOptions(**BATCHED_VAD))
        return stamps


#: (audio, its speech stamps) the batched pipeline is about to find again, per thread
_known_speech = threading.local()
#: the VAD options of faster-whisper's batched pipeline (its defaults for 30 s chunks)
BATCHED_VAD = {"max_speech_duration_s": 30, "min_silence_duration_ms": 160}


@contextlib.contextmanager
def _vad_known(audio: np.ndarray, stamps: list[dict[str, int]]) -> Iterator[None]:
    """While in it, faster-whisper's batched pipeline, asked for the speech of `audio` (this
    very array) with its own VAD options, gets `stamps` instead of running Silero VAD again.
    Its `transcribe` finds the speech up front, before it returns."""
    _reuse_vad()
    _known_speech.value = (audio, stamps)
    try:
        yield
    finally:
        _known_speech.value = None


def _reuse_vad() -> None:
    """Wrap faster-whisper's `get_speech_timestamps` (as its batched pipeline calls it) to
    answer from `_vad_known`; once per process."""
    import faster_whisper.transcribe as module
    from faster_whisper.vad import VadOptions

    original = module.get_speech_timestamps
    if getattr(original, "revoice_reuse", False):
        return
    batched = VadOptions(**BATCHED_VAD)

    def get_speech_timestamps(audio: np.ndarray, vad_options: Any = None, **kw: Any) -> Any:
        known = getattr(_known_speech, "value", None)
        if known is not None and known[0] is audio and vad_options == batched and not kw:
            return [dict(s) for s in known[1]]
        return original(audio, vad_options, **kw)

    get_speech_timestamps.revoice_reuse = True  # type: ignore[attr-defined]
    module.get_speech_timestamps = get_speech_timestamps


def _joined(samples: np.ndarray, stamps: list[dict[str, int]]) -> np.ndarray:
    """The speech of `samples` (its VAD stamps), end to end."""
    if not stamps:
        return samples[:0]
    return np.concatenate([samples[s["start"] : s["end"]] for s in stamps])


#: speech left undecoded between two segments (seconds) that is decoded again on its own
MISSED_SPEECH = 1.0


def _missed(
    spans: list[tuple[float, float]], after: float, before: float
) -> list[dict[str, float]]:
    """The speech between `after` and `before` (VAD spans, clipped), as clips of at most 30 s,
    when there is more than `MISSED_SPEECH` of it; else none."""
    inside = [
        (max(start, after), min(end, before))
        for start, end in spans
        if end > after + 0.2 and start < before - 0.2
    ]
    if sum(end - start for start, end in inside) <= MISSED_SPEECH:
        return []
    clips: list[dict[str, float]] = []
    for start, end in inside:
        if clips and end - clips[-1]["start"] <= 30.0:
            clips[-1]["end"] = end
        else:
            clips.append({"start": start, "end": min(end, start + 30.0)})
    return clips


def _shifted(raw: Any, offset: float) -> Any:
    """A faster-whisper segment (and its words) moved `offset` seconds later."""
    from dataclasses import replace

    words = [replace(w, start=w.start + offset, end=w.end + offset) for w in raw.words or ()]
    return replace(
        raw,
        start=raw.start + offset,
        end=raw.end + offset,
        seek=int(raw.seek) + round(offset * FRAMES_PER_SECOND),
        words=words or raw.words,
    )


def _segment(index: int, raw: Any) -> Segment:
    words = tuple(
        Word(float(w.start), float(w.end), str(w.word), float(w.probability))
        for w in (raw.words or ())
    )
    return Segment(
        id=index,
        start=float(raw.start),
        end=float(raw.end),
        text=str(raw.text).strip(),
        avg_logprob=float(raw.avg_logprob),
        no_speech_prob=float(raw.no_speech_prob),
        words=words,
        tokens=tuple(int(t) for t in raw.tokens or ()),
        compression_ratio=_optional(raw.compression_ratio),
        temperature=_optional(raw.temperature),
        seek=int(raw.seek or 0),
    )


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)
