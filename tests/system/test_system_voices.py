"""System voices: every installed festival, flite and espeak-ng voice speaks, and Whisper base
understands what it says; absent programs leave no trace in the catalogue."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from revoice.audio import Audio
from revoice.config import Settings
from revoice.errors import EngineUnavailable, UnknownVoice
from revoice.pipeline import Pipeline
from revoice.tts import system
from revoice.tts.system import NSK, SYSTEM_VOICES, script_runs
from revoice.types import SynthesisOptions, TranscribeOptions
from revoice.voices import SEED_PRESETS, Catalogue
from tests.helpers import cer, wer
from tests.system.conftest import require, spec

ENGLISH = (
    "The quick brown fox jumps over the lazy dog. Please call me back when you get home tonight."
)
HINDI = [
    "मेरा नाम राम है। मैं दिल्ली में रहता हूँ।",
    "मुझे किताबें पढ़ना पसंद है।",
    "आज मौसम बहुत अच्छा है।",
    "कृपया दरवाज़ा बंद कर दीजिए।",
]
ENGLISH_VOICES = [s.id for s in SYSTEM_VOICES if s.languages == ("en",)]
ESPEAK_HINDI = ["espeak-ng/hi", "espeak-ng/hi+f3"]
#: what the English round trip says: ENGLISH and five Harvard sentences (IEEE 1969, made to
#: test how well speech is understood), 56 words
ROUND_TRIP = " ".join(
    [
        ENGLISH,
        "The birch canoe slid on the smooth planks.",
        "Glue the sheet to the dark blue background.",
        "It's easy to tell the depth of a well.",
        "These days a chicken leg is a rare dish.",
        "Rice is often served in round bowls.",
    ]
)
# Whisper base, English forced, on ROUND_TRIP, measured on Debian 12 (festival 2.5, flite 2.2,
# espeak-ng 1.51), as spoken and with three faint noises added (-70 dB: a word or two flips
# on a borderline voice, as it does on another CPU's arithmetic): festival/us_slt_hts
# 0.03-0.05, festival/kal 0.08, flite/slt 0.08-0.10, flite/rms 0.03, flite/awb 0.05,
# flite/kal 0.08 ("birch canoe" is the hard part). 0.25 leaves room for other builds while
# failing on silence, the wrong language or dropped words.
ENGLISH_MAX_WER = 0.25
# espeak-ng's formant English is harder for Whisper: en-us 0.10-0.12, en-us+f2 0.17-0.22. (The
# f3 variant listed before scored 0.32-0.44 and failed here on one machine: f2 replaced it.)
# 0.35 allows about eight more words wrong before calling it broken.
ESPEAK_MAX_WER = 0.35
# Festival's native Hindi NSK voice through Whisper base (Hindi forced, Devanagari prompt):
# mean CER 0.42 over HINDI (per sentence 0.25, 0.50, 0.42, 0.50); at speed 0.8 0.42, at 1.2
# 0.52. Kokoro's Hindi presets score 0.25 on the same sentences: Whisper base knows the
# Japanese-accented neural voice better than 2005 LPC diphones. 0.55 fails Urdu script,
# silence or English (CER ~1) while leaving a little room for festival builds.
NSK_MAX_CER = 0.55


def speak(pipeline: Pipeline, text: str, voice: str, speed: float | None = None) -> Audio:
    return Audio.concat(pipeline.speak(text, voice, SynthesisOptions(speed=speed)))


def pitch(audio: Audio) -> float:
    """Median fundamental frequency of the voiced 40 ms frames (autocorrelation), in Hz."""
    x = audio.resample(16000).samples
    frame, found = 640, []
    for start in range(0, len(x) - frame, frame):
        s = x[start : start + frame]
        if np.sqrt(np.mean(s**2)) < 0.05:
            continue
        s = s - s.mean()
        corr = np.correlate(s, s, "full")[frame - 1 :]
        lag = 40 + int(np.argmax(corr[40:228]))  # 70-400 Hz
        if corr[lag] > 0.4 * corr[0]:
            found.append(16000 / lag)
    return float(np.median(found)) if found else 0.0


# -- the catalogue --------------------------------------------------------------------------


@pytest.mark.parametrize("voice_id", [s.id for s in SYSTEM_VOICES])
def test_installed_voice_is_listed(pipeline: Pipeline, voice_id: str) -> None:
    entry = spec(voice_id)
    require(entry)
    voice = pipeline.voice(voice_id)
    assert (voice.engine, voice.base, voice.languages, voice.gender, voice.sample_rate) == (
        entry.program,
        entry.name,
        entry.languages,
        entry.gender,
        entry.sample_rate,
    )
    assert voice.description and "\n" not in voice.description
    assert voice.source == "builtin"


@pytest.mark.parametrize("voice_id", [s.id for s in SYSTEM_VOICES])
def test_program_writes_the_catalogue_rate(pipeline: Pipeline, voice_id: str) -> None:
    """The rate in the catalogue is the program's own: nothing is resampled in practice."""
    entry = spec(voice_id)
    require(entry)
    engine = pipeline.models.tts(entry.program)
    assert isinstance(engine, system.SystemSynthesizer)
    text = HINDI[1] if entry.languages == ("hi",) else "Hello there."
    assert engine.run(entry.name, text, 1.0).sample_rate == entry.sample_rate


@pytest.mark.parametrize("voice_id", [s.id for s in SYSTEM_VOICES])
def test_gender_matches_pitch(pipeline: Pipeline, voice_id: str) -> None:
    """Measured medians: male voices 93-131 Hz, female 170-209 Hz."""
    entry = spec(voice_id)
    require(entry)
    text = HINDI[0] if entry.languages == ("hi",) else ENGLISH
    f0 = pitch(speak(pipeline, text, voice_id))
    if entry.gender == "male":
        assert 70 < f0 < 150, f0
    else:
        assert 155 < f0 < 300, f0


def test_nothing_installed_means_no_system_voices(
    nothing_installed: None, settings: Settings
) -> None:
    assert system.discover() == system.Found()
    assert system.system_voices() == []
    catalogue = Catalogue.load(None, settings)
    assert not [v for v in catalogue if v.engine in ("festival", "flite", "espeak-ng")]
    hindi_male_2 = catalogue.get("hindi-male-2")
    assert hindi_male_2.engine == "kokoro"  # the shipped binding
    pipeline = Pipeline(settings, catalogue=catalogue)
    for voice_id in ("festival/hi_nsk", "flite/slt", "espeak-ng/en-us"):
        with pytest.raises(UnknownVoice) as info:
            pipeline.voice(voice_id)
        assert info.value.status == 404
        assert voice_id not in info.value.valid  # type: ignore[attr-defined]
    # an engine asked directly (a stale voice) says what to install
    engine = system.FliteSynthesizer(settings)
    with pytest.raises(EngineUnavailable, match="apt-get install flite"):
        next(engine.synthesize("Hello.", spec("flite/slt").voice(), SynthesisOptions()))


def test_discovery_is_cached_and_lazy() -> None:
    assert system.discover() is system.discover()
    # importing the catalogue and the engines runs no program and looks nothing up
    probe = (
        "import subprocess, shutil\n"
        "calls = []\n"
        "subprocess.run = lambda *a, **k: calls.append(a)\n"
        "shutil.which = lambda *a, **k: calls.append(a)\n"
        "import revoice.voices, revoice.registry, revoice.tts.system as s\n"
        "assert calls == [] and s.discover.cache_info().currsize == 0, calls\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)


# -- round trips through Whisper base --------------------------------------------------------


@pytest.mark.parametrize("voice_id", ENGLISH_VOICES)
def test_english_round_trip(pipeline: Pipeline, voice_id: str) -> None:
    require(spec(voice_id))
    audio = speak(pipeline, ROUND_TRIP, voice_id)
    heard = pipeline.transcribe(audio, TranscribeOptions(language="en")).text
    rate = wer([ROUND_TRIP], [heard])
    print(f"{voice_id}: WER {rate:.3f} ({audio.duration:.1f} s): {heard}")
    assert rate <= (ESPEAK_MAX_WER if voice_id.startswith("espeak") else ENGLISH_MAX_WER), heard


def test_festival_hindi_round_trip(pipeline: Pipeline) -> None:
    require(spec("festival/hi_nsk"))
    rates = []
    for sentence in HINDI:
        audio = speak(pipeline, sentence, "festival/hi_nsk")
        heard = pipeline.transcribe(audio, TranscribeOptions(language="hi")).text
        rates.append(cer(sentence, heard))
        print(f"festival/hi_nsk: {sentence} -> {heard} (CER {rates[-1]:.2f})")
    assert sum(rates) / len(rates) <= NSK_MAX_CER, rates


@pytest.mark.parametrize("voice_id", ESPEAK_HINDI)
def test_espeak_hindi_says_each_sentence_like_kokoro(pipeline: Pipeline, voice_id: str) -> None:
    """Whisper base cannot follow espeak-ng's Hindi: measured CER 0.90-1.05 at speed 1 (0.54-
    1.04 from speed 0.6 to 1.2), with runaway repetitions ("राम्राम्राम्..."), so a CER bound
    would only measure Whisper. Instead: every sentence is spoken (loud, mostly voiced, no
    long silences) and takes about as long as Kokoro's Hindi (measured ratio 0.85-0.95)."""
    require(spec(voice_id))
    for sentence in HINDI:
        audio = speak(pipeline, sentence, voice_id)
        kokoro = speak(pipeline, sentence, "hindi-male-1")
        ratio = audio.duration / kokoro.duration
        frames = audio.samples[: len(audio.samples) // 441 * 441].reshape(-1, 441)  # 20 ms
        loud = np.sqrt(np.mean(frames**2, axis=1)) > 0.02
        print(f"{voice_id}: {sentence} {audio.duration:.2f} s, Kokoro x{ratio:.2f}")
        assert 0.6 <= ratio <= 1.5, ratio
        assert audio.rms() > 0.05
        assert loud.mean() > 0.5  # speech, not a click before silence


# -- what every engine must do ----------------------------------------------------------------

ONE_PER_PROGRAM = ["festival/kal", "festival/us_slt_hts", "festival/hi_nsk", "flite/slt"]
ONE_PER_PROGRAM += ["espeak-ng/en-us", "espeak-ng/hi"]


@pytest.mark.parametrize("voice_id", ONE_PER_PROGRAM)
def test_speed_changes_duration(pipeline: Pipeline, voice_id: str) -> None:
    require(spec(voice_id))
    text = HINDI[0] if voice_id.endswith("hi") or voice_id.endswith("nsk") else ENGLISH
    slow, normal, fast = (speak(pipeline, text, voice_id, s).duration for s in (0.6, 1.0, 1.6))
    print(f"{voice_id}: {slow:.2f} / {normal:.2f} / {fast:.2f} s at speed 0.6 / 1 / 1.6")
    assert slow > normal * 1.3
    assert fast < normal * 0.8


LONG_ENGLISH = " ".join(f"This is sentence number {n}." for n in range(1, 8))
LONG_HINDI = " ".join(["मेरा नाम राम है।", "मैं दिल्ली में रहता हूँ।", *HINDI[1:], "अच्छा?", "धन्यवाद!"])


@pytest.mark.parametrize("voice_id", ONE_PER_PROGRAM)
def test_long_text_is_one_chunk_per_sentence(pipeline: Pipeline, voice_id: str) -> None:
    require(spec(voice_id))
    text = LONG_HINDI if pipeline.voice(voice_id).language == "hi" else LONG_ENGLISH
    chunks = list(pipeline.speak(text, voice_id))
    assert len(chunks) == 7
    rate = pipeline.voice(voice_id).sample_rate
    pause = pipeline.settings.tts.sentence_pause
    for chunk in chunks:
        assert chunk.sample_rate == rate
        assert chunk.duration > pause + 0.3  # each sentence is spoken, not just the gap
        assert not chunk.samples[-int(pause * rate) :].any()  # and ends with the gap


def test_nsk_is_its_own_voice_and_no_preset_is_rebound(pipeline: Pipeline) -> None:
    """Installed festival voices join the catalogue beside the presets: hindi-male-2 stays the
    Kokoro voice it is on a machine without festival (one name, one voice everywhere)."""
    require(spec("festival/hi_nsk"))
    nsk = pipeline.voice("festival/hi_nsk")
    assert (nsk.engine, nsk.base, nsk.gender) == ("festival", NSK, "male")
    assert "NSK" in nsk.description
    for preset in SEED_PRESETS:
        assert pipeline.voice(preset).engine in ("piper", "kokoro"), preset
    assert pipeline.voice("hindi-male-2").blend == {"jm_kumo": 1.0}
    heard = pipeline.transcribe(speak(pipeline, HINDI[0], nsk.id), TranscribeOptions("hi"))
    assert cer(HINDI[0], heard.text) <= NSK_MAX_CER


def test_nsk_says_latin_words_with_kal_and_never_crashes(pipeline: Pipeline) -> None:
    """NSK segfaults on text with no Devanagari; Latin words go to festival's kal instead."""
    require(spec("festival/hi_nsk"))
    require(spec("festival/kal"))
    english = speak(pipeline, "Please call me back tonight.", "festival/hi_nsk")
    heard = pipeline.transcribe(english, TranscribeOptions(language="en")).text
    assert wer(["Please call me back tonight."], [heard]) <= ENGLISH_MAX_WER, heard
    hindi = speak(pipeline, "मेरा नाम राम है।", "festival/hi_nsk").duration
    mixed = speak(pipeline, "मेरा नाम राम है, my name is Ram.", "festival/hi_nsk").duration
    assert mixed > hindi + 0.4
    for odd in ("...", "25", "— ! —", "中文", "ঢাকা", "नमस्ते 😀 é"):
        chunks = list(pipeline.speak(odd, "festival/hi_nsk"))
        assert len(chunks) <= 1  # nothing, a silent or a spoken chunk; never an error


@pytest.mark.parametrize("voice_id", ["festival/kal", "flite/slt", "espeak-ng/en-us"])
def test_concurrent_calls_get_their_own_audio(pipeline: Pipeline, voice_id: str) -> None:
    require(spec(voice_id))
    texts = [f"Caller number {n} asked for {word}." for n, word in enumerate(("tea", "milk"))]
    texts += ["A completely different and much longer sentence.", "Short one."]
    expected = [speak(pipeline, t, voice_id).samples for t in texts]
    barrier = threading.Barrier(len(texts))
    got: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                got[i] = speak(pipeline, texts[i], voice_id).samples
                assert np.array_equal(got[i], expected[i])
        except BaseException as exc:  # reported below, with the thread's number
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len({len(v) for v in got.values()}) == len(texts)  # four different answers


def test_each_run_uses_a_private_directory_and_no_shell(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(spec("flite/slt"))
    seen: list[tuple[list[str], str, int]] = []
    real = subprocess.run

    def spy(argv: list[str], **kwargs: Any) -> Any:
        assert isinstance(argv, list) and not kwargs.get("shell")
        assert kwargs.get("timeout")
        cwd = kwargs["cwd"]
        seen.append((argv, cwd, Path(cwd).stat().st_mode & 0o777))
        return real(argv, **kwargs)

    monkeypatch.setattr(system.subprocess, "run", spy)
    list(pipeline.speak("One. Two.", "flite/slt"))
    assert len(seen) == 2
    assert seen[0][1] != seen[1][1]  # a new directory per run
    for argv, cwd, mode in seen:
        assert mode == 0o700
        assert not Path(cwd).exists()  # removed afterwards
        assert all(a.startswith(cwd) for a in argv if a.endswith(("text", ".wav")))


def test_a_stuck_program_times_out(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    require(spec("flite/slt"))
    monkeypatch.setattr(system, "TIMEOUT", 1e-4)
    with pytest.raises(EngineUnavailable, match="longer than"):
        list(pipeline.speak("Hello there.", "flite/slt"))


# -- pure logic -------------------------------------------------------------------------------


def test_script_runs() -> None:
    assert script_runs("मेरा नाम Ram है।", "deva", "latin") == [
        ("deva", "मेरा नाम"),
        ("latin", "Ram"),
        ("deva", "है।"),
    ]
    assert script_runs("मेरा नाम Ram है।", "deva") == [("deva", "मेरा नाम है।")]
    assert script_runs("25 लोग, 3 cats!", "deva", "latin") == [
        ("deva", "25 लोग, 3"),
        ("latin", "cats!"),
    ]
    assert script_runs("Hello 中文 world", "latin") == [("latin", "Hello world")]
    assert script_runs("25.", "deva") == [("deva", "25.")]
    assert script_runs("... —", "deva", "latin") == []
    assert script_runs("中文", "latin") == []
