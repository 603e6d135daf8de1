"""Speech to text on real human speech with the shipped models."""

from __future__ import annotations

import re

import numpy as np
import pytest

from revoice.audio import Audio
from revoice.errors import UnknownModel
from revoice.pipeline import Pipeline
from revoice.types import TranscribeOptions
from tests.helpers import Clip, normalize, wer


def test_base_model_word_error_rate_on_human_clips(pipeline: Pipeline, clips: list[Clip]) -> None:
    hypotheses = [pipeline.transcribe(c.audio).text for c in clips]
    rate = wer([c.transcript for c in clips], hypotheses)
    print(f"WER base on {len(clips)} human clips: {rate:.3f}")
    assert rate <= 0.06


def test_tiny_en_is_selectable_by_name(pipeline: Pipeline, clips: list[Clip]) -> None:
    subset = [c for c in clips if c.name.startswith("librivox")]
    hypotheses = [pipeline.transcribe(c.audio, model="tiny.en").text for c in subset]
    rate = wer([c.transcript for c in subset], hypotheses)
    print(f"WER tiny.en on {len(subset)} LibriVox clips: {rate:.3f}")
    assert rate <= 0.15


def test_a_model_directory_is_accepted(pipeline: Pipeline, clips: list[Clip]) -> None:
    from revoice import assets

    model_dir = str(assets.whisper_tiny_en_dir())
    clip = next(c for c in clips if c.name == "forever.wav")
    text = pipeline.transcribe(clip.audio, model=model_dir).text
    assert normalize(text) == normalize(clip.transcript)


def test_unknown_model_name_is_a_clear_error_without_download(pipeline: Pipeline) -> None:
    with pytest.raises(UnknownModel, match=r"base, tiny\.en"):
        pipeline.transcribe(Audio.silence(1, 16000), model="no-such-model")


def _long_recording(clips: list[Clip]) -> tuple[Audio, list[str]]:
    """45+ s of human speech: every clip once, 1 s of silence between them."""
    parts: list[Audio] = []
    refs: list[str] = []
    for clip in clips:
        parts += [clip.audio.resample(16000), Audio.silence(1.0, 16000)]
        refs.append(clip.transcript)
    return Audio.concat(parts), refs


def test_whole_long_recording_is_transcribed(pipeline: Pipeline, clips: list[Clip]) -> None:
    audio, refs = _long_recording(clips)
    assert audio.duration > 45
    transcript = pipeline.transcribe(audio)
    rate = wer([" ".join(refs)], [transcript.text])
    print(f"WER on a {audio.duration:.0f} s recording: {rate:.3f}")
    assert rate <= 0.08
    # the words of the last clip, well past the 30 s mark, are there
    assert normalize(refs[-1]).split()[-1] in normalize(transcript.text)
    ends = [s.end for s in transcript.segments]
    assert ends == sorted(ends) and ends[-1] > 40
    assert all(0 <= s.start < s.end <= audio.duration + 0.5 for s in transcript.segments)


def test_concurrent_transcriptions_decode_side_by_side(
    pipeline: Pipeline, clips: list[Clip]
) -> None:
    """With the default concurrency of 2 Whisper holds a model replica per concurrent job, each
    with its share of the cores (revoice.threads), so two requests decode at the same time
    rather than queueing for one replica (BENCHMARKS.md, "server overhead")."""
    import threading
    import time

    audio, refs = _long_recording(clips)
    engine = pipeline.models.asr()
    pipeline.transcribe(clips[0].audio)  # loaded
    model = engine._model.model  # type: ignore[attr-defined]
    assert model.num_workers == pipeline.settings.concurrency == 2
    texts: list[str] = []
    jobs = [
        threading.Thread(target=lambda: texts.append(pipeline.transcribe(audio).text))
        for _ in range(2)
    ]
    peak = 0
    for job in jobs:
        job.start()
    while any(job.is_alive() for job in jobs):
        peak = max(peak, model.num_active_batches)
        time.sleep(0.002)
    for job in jobs:
        job.join()
    assert peak >= 2  # both decoding at once (the counter can read one more in passing)
    assert len(texts) == 2
    for text in texts:
        assert wer([" ".join(refs)], [text]) <= 0.06


def test_streaming_decodes_the_first_seconds_first(pipeline: Pipeline, clips: list[Clip]) -> None:
    """`stream` decodes the first few seconds of speech on their own (cut at a pause, here
    after the first clip), so the first segment comes early, then the rest batched: same
    words, same time line."""
    audio, refs = _long_recording(clips)
    limit = pipeline.settings.asr.first_chunk_seconds
    stream = pipeline.transcribe_stream(audio, TranscribeOptions(language="en"))
    segments = list(stream.segments)
    first_clip = clips[0].audio.duration  # one stretch of speech, longer than the limit
    assert first_clip > limit
    assert segments[0].end <= first_clip + 1.0, segments[0]  # decoded alone, first
    assert len(segments) >= 2
    text = " ".join(s.text for s in segments)
    rate = wer([" ".join(refs)], [text])
    print(f"WER streamed (first {limit:g} s on their own): {rate:.3f}")
    assert rate <= 0.08  # as the whole-recording test
    assert normalize(refs[-1]).split()[-1] in normalize(text)
    starts = [s.start for s in segments]
    assert starts == sorted(starts) and segments[-1].end > 40  # the rest is shifted back in place
    assert all(0 <= s.start < s.end <= audio.duration + 0.5 for s in segments)


def test_short_recordings_stream_in_one_pass(pipeline: Pipeline, clips: list[Clip]) -> None:
    clip = next(c for c in clips if c.name == "forever.wav")
    streamed = pipeline.transcribe_stream(clip.audio).collect()
    assert normalize(streamed.text) == normalize(pipeline.transcribe(clip.audio).text)


def test_silence_gives_an_empty_transcript(pipeline: Pipeline) -> None:
    rng = np.random.default_rng(0)
    for audio in (
        Audio.silence(5, 16000),
        Audio(rng.normal(0, 0.003, 16000 * 5).astype(np.float32), 16000),
        Audio(np.zeros(0, np.float32), 16000),
    ):
        transcript = pipeline.transcribe(audio)
        assert transcript.text == "" and transcript.segments == ()


def test_language_is_detected_and_can_be_forced(pipeline: Pipeline, clips: list[Clip]) -> None:
    clip = next(c for c in clips if c.name == "librivox-0870.wav")
    detected = pipeline.transcribe(clip.audio)
    assert detected.language == "en" and detected.language_probability > 0.5
    forced = pipeline.transcribe(clip.audio, TranscribeOptions(language="en"))
    assert forced.language == "en" and forced.language_probability == 1.0


def test_word_timestamps(pipeline: Pipeline, clips: list[Clip]) -> None:
    clip = next(c for c in clips if c.name == "forever.wav")
    transcript = pipeline.transcribe(clip.audio, TranscribeOptions(word_timestamps=True))
    words = [w for s in transcript.segments for w in s.words]
    assert [normalize(w.word) for w in words] == normalize(clip.transcript).split()
    assert all(w.start <= w.end for w in words)


HINDI = "मुझे किताबें पढ़ना बहुत पसंद है। आज मौसम बहुत अच्छा है।"


@pytest.fixture(scope="module")
def hindi_speech(pipeline: Pipeline) -> Audio:
    return Audio.concat(pipeline.speak(HINDI, "hindi-female-2"))


def test_hindi_comes_out_in_devanagari(pipeline: Pipeline, hindi_speech: Audio) -> None:
    transcript = pipeline.transcribe(hindi_speech, TranscribeOptions(language="hi"))
    assert re.search(r"[\u0900-\u097F]", transcript.text)
    assert not re.search(r"[\u0600-\u06FF]", transcript.text)  # no Urdu (Arabic) script


def test_translate_task_gives_english(pipeline: Pipeline, hindi_speech: Audio) -> None:
    options = TranscribeOptions(language="hi", task="translate")
    transcript = pipeline.transcribe(hindi_speech, options)
    words = normalize(transcript.text).split()
    print("translation:", transcript.text)
    assert transcript.task == "translate"
    assert re.fullmatch(r"[\x00-\x7F]+", transcript.text)
    # Whisper base translating accented synthetic Hindi is rough; the gist must come through
    assert len({"like", "love", "books", "reading", "read", "weather", "today"} & set(words)) >= 2


def test_a_decode_that_runs_past_its_audio_is_decoded_again(pipeline: Pipeline) -> None:
    """A reading on which the decoder, on a short encoder window, repeated its last sentence
    eight times (tests/data/runaway): the window is decoded again on Whisper's 30 s."""
    from pathlib import Path

    from revoice import codecs

    data = Path(__file__).parent.parent / "data" / "runaway" / "three-sentences.wav"
    audio = codecs.decode(data.read_bytes())
    said = (
        "Please call me back after lunch today. The library opens at nine in the morning. "
        "My sister bought a red bicycle."
    )
    transcript = pipeline.transcribe(audio, TranscribeOptions(language="en"))
    assert wer([said], [transcript.text]) <= 0.1, transcript.text
    assert transcript.segments[-1].end <= audio.duration + 0.5


def test_the_runaway_check() -> None:
    """A timestamp past the audio, or text repeated over and over, is a runaway; a decode
    that ends within its audio is not."""
    from types import SimpleNamespace

    from faster_whisper.tokenizer import Tokenizer
    from tokenizers import Tokenizer as HFTokenizer

    from revoice import assets
    from revoice.asr.faster_whisper import _ran_away

    hf = HFTokenizer.from_file(str(assets.whisper_tiny_en_dir() / "tokenizer.json"))
    tokenizer = Tokenizer(hf, multilingual=False)
    options = SimpleNamespace(compression_ratio_threshold=2.4)
    first = tokenizer.timestamp_begin

    def decode(text: str, start: float, end: float) -> list[int]:
        stamp = [first + round(start / 0.02)], [first + round(end / 0.02)]
        return stamp[0] + tokenizer.encode(" " + text) + stamp[1]

    sentence = "My sister bought a red bicycle."
    assert not _ran_away(decode(sentence, 0.0, 2.4), 3.0, tokenizer, options)
    assert _ran_away(decode(sentence, 0.0, 5.0), 3.0, tokenizer, options)
    repeated = [t for i in range(8) for t in decode(sentence, i, i + 1.0)]
    assert _ran_away(repeated, 30.0, tokenizer, options)


def test_a_hindi_conversion_runs_vad_once(
    pipeline: Pipeline, hindi_speech: Audio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Voice to voice in a Hindi voice: the language (Whisper's guess, settled by the voice)
    and the transcript come from one pass, Silero VAD run once (it ran four times: twice for
    the language, then the adapter's and the batched pipeline's own)."""
    from faster_whisper.vad import SileroVADModel

    runs: list[int] = []
    vad = SileroVADModel.__call__

    def counted(self: SileroVADModel, *args: object, **kwargs: object) -> object:
        runs.append(1)
        return vad(self, *args, **kwargs)

    monkeypatch.setattr(SileroVADModel, "__call__", counted)
    transcript = pipeline.convert(hindi_speech, "hindi-female-2").transcript
    assert len(runs) == 1, "convert"
    runs.clear()
    live = pipeline.convert_live(hindi_speech, "hindi-female-2")
    list(live.events())
    assert len(runs) == 1, "convert_live"
    for heard in (transcript, live.transcript):
        assert heard.language == "hi", heard
        assert re.search(r"[\u0900-\u097F]", heard.text), heard
