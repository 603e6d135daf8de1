"""System voices: festival, flite and espeak-ng, when their Debian packages are installed.

    sudo apt-get install festival festvox-hi-nsk festvox-us-slt-hts festvox-kallpc16k \
        flite espeak-ng

Each program runs as a subprocess (arguments as a list, no shell, a timeout) on one piece of
text at a time; the text goes in, and the WAV comes out, through a private temporary
directory made for that call, so concurrent requests never share a path. What is installed
is found on first use (`discover`, cached), never at import time; an absent program's voices
are simply not in the catalogue.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from revoice import text as textsplit
from revoice.audio import Audio
from revoice.config import Settings
from revoice.errors import EngineUnavailable
from revoice.tts.base import UserVoice, effective_speed, trim_silence, with_pause
from revoice.types import Gender, SynthesisOptions, Voice

Program = Literal["festival", "flite", "espeak-ng"]

#: where Debian (and a source install) put festival's voices: <root>/<language>/<voice name>/
FESTIVAL_VOICE_ROOTS = (
    Path("/usr/share/festival/voices"),
    Path("/usr/lib/festival/voices"),
    Path("/usr/local/share/festival/voices"),
)
#: seconds one program run may take (one sentence, or a piece of at most _MAX_CHARS)
TIMEOUT = 60.0
#: longest piece handed to a program in one run; shorter pieces reach the listener sooner
_MAX_CHARS = 300
#: espeak-ng's rate at speed 1.0, and the range it accepts (it clamps below 80 wpm)
ESPEAK_WPM = 175
ESPEAK_WPM_RANGE = (80, 700)
#: gap between two runs of one sentence spoken by different festival voices (Hindi + English)
_RUN_GAP = 0.06


@dataclass(frozen=True)
class SystemVoice:
    """One system voice: the program, the name it knows the voice by, and catalogue facts.

    The sample rates were measured on Debian 12 (festival 2.5, flite 2.2, espeak-ng 1.51);
    audio at another rate is resampled to this one.
    """

    id: str
    program: Program
    name: str  # festival: voice_<name>; flite: -voice <name>; espeak-ng: -v <name>
    languages: tuple[str, ...]
    gender: Gender
    sample_rate: int
    description: str

    def voice(self) -> Voice:
        return Voice(
            self.id,
            self.program,
            self.languages,
            self.gender,
            self.sample_rate,
            self.description,
            base=self.name,
        )


#: festival's native Hindi voice: speaks Devanagari, crashes on text with none in it
NSK = "hindi_NSK_diphone"
#: the festival voice that says the Latin-script words of a sentence given to NSK
NSK_ENGLISH = "kal_diphone"

SYSTEM_VOICES: tuple[SystemVoice, ...] = (
    SystemVoice(
        "festival/hi_nsk",
        "festival",
        NSK,
        ("hi",),
        "male",
        16000,
        "Festival NSK: native Hindi male diphone voice (IIT Madras); Latin-script words are "
        "said by festival's kal, so English text sounds like festival/kal",
    ),
    SystemVoice(
        "festival/us_slt_hts",
        "festival",
        "cmu_us_slt_arctic_hts",
        ("en",),
        "female",
        32000,
        "Festival CMU SLT (HTS): US English female, statistical parametric; the same speaker "
        "as flite/slt",
    ),
    SystemVoice(
        "festival/kal",
        "festival",
        NSK_ENGLISH,
        ("en",),
        "male",
        16000,
        "Festival kal: US English male diphone voice, robotic but clear; the same speaker as "
        "flite/kal (and festival/hi_nsk's English)",
    ),
    SystemVoice(
        "flite/slt",
        "flite",
        "slt",
        ("en",),
        "female",
        16000,
        "flite SLT: US English female; the same speaker as festival/us_slt_hts",
    ),
    SystemVoice("flite/rms", "flite", "rms", ("en",), "male", 16000, "flite RMS: US English male"),
    SystemVoice(
        "flite/awb", "flite", "awb", ("en",), "male", 16000, "flite AWB: Scottish English male"
    ),
    SystemVoice(
        "flite/kal",
        "flite",
        "kal16",
        ("en",),
        "male",
        16000,
        "flite kal (16 kHz diphones): US English male, robotic; the same speaker as festival/kal",
    ),
    SystemVoice(
        "espeak-ng/en-us",
        "espeak-ng",
        "en-us",
        ("en",),
        "male",
        22050,
        "espeak-ng US English, male: formant synthesis, fast and robotic",
    ),
    SystemVoice(
        # f2: of espeak-ng's female variants the one Whisper understands best (on six
        # sentences, WER 0.19 for f2, 0.30 for f3, 0.28-0.47 for f1, f4, f5, Annie, Alicia)
        "espeak-ng/en-us+f2",
        "espeak-ng",
        "en-us+f2",
        ("en",),
        "female",
        22050,
        "espeak-ng US English, female variant f2: formant synthesis",
    ),
    SystemVoice(
        "espeak-ng/hi",
        "espeak-ng",
        "hi",
        ("hi",),
        "male",
        22050,
        "espeak-ng Hindi, male: formant synthesis, robotic",
    ),
    SystemVoice(
        "espeak-ng/hi+f3",
        "espeak-ng",
        "hi+f3",
        ("hi",),
        "female",
        22050,
        "espeak-ng Hindi, female variant f3: formant synthesis, robotic",
    ),
)


# -- discovery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """What is installed: each program's path and the voices it can speak."""

    programs: tuple[tuple[Program, str], ...] = ()  # (program, executable path)
    festival: frozenset[str] = frozenset()  # festival voice names
    flite: frozenset[str] = frozenset()  # flite voice names (flite -lv)
    espeak: frozenset[str] = frozenset()  # espeak-ng languages and variants (f3, m3, ...)

    def path(self, program: Program) -> str | None:
        return dict(self.programs).get(program)

    def has(self, voice: SystemVoice) -> bool:
        if self.path(voice.program) is None:
            return False
        if voice.program == "festival":
            return voice.name in self.festival
        if voice.program == "flite":
            return voice.name in self.flite
        language, _, variant = voice.name.partition("+")
        return language in self.espeak and (not variant or f"+{variant}" in self.espeak)


@functools.cache
def discover() -> Found:
    """Look for the programs and their voices, once per process (cheap: path lookups, a
    directory listing and two sub-second `--list` runs). Call `discover.cache_clear()` after
    installing or removing a package."""
    programs: list[tuple[Program, str]] = []
    festival: set[str] = set()
    text2wave = shutil.which("text2wave")
    if text2wave and shutil.which("festival"):  # text2wave is a festival script
        programs.append(("festival", text2wave))
        for root in FESTIVAL_VOICE_ROOTS:
            if root.is_dir():
                festival.update(p.parent.name for p in root.glob("*/*/festvox") if p.is_dir())
    flite: set[str] = set()
    flite_path = shutil.which("flite")
    if flite_path:
        out = _list_output([flite_path, "-lv"])
        flite.update(out.partition(":")[2].split())
        if flite:
            programs.append(("flite", flite_path))
    espeak: set[str] = set()
    espeak_path = shutil.which("espeak-ng")
    if espeak_path:
        for line in _list_output([espeak_path, "--voices"]).splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 2:
                espeak.add(fields[1])
        for line in _list_output([espeak_path, "--voices=variant"]).splitlines()[1:]:
            match = re.search(r"!v/(\S+)", line)
            if match:
                espeak.add(f"+{match.group(1)}")
        if espeak:
            programs.append(("espeak-ng", espeak_path))
    return Found(tuple(programs), frozenset(festival), frozenset(flite), frozenset(espeak))


def _list_output(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""


def system_voices(program: Program | None = None) -> list[Voice]:
    """The catalogue entries of every installed system voice (of `program`, or of all three;
    empty when none is)."""
    found = discover()
    return [
        spec.voice()
        for spec in SYSTEM_VOICES
        if (program is None or spec.program == program) and found.has(spec)
    ]


# -- synthesis ------------------------------------------------------------------------------


def _spec(voice: Voice, program: Program) -> SystemVoice:
    for spec in SYSTEM_VOICES:
        if spec.program == program and spec.name == voice.base:
            return spec
    raise EngineUnavailable(f"{voice.id}: {voice.base!r} is not a {program} voice")


def _peak(samples: np.ndarray, level: float = 0.9) -> np.ndarray:
    """Every piece at the same peak level (the programs' own levels differ a lot)."""
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    return samples / peak * level if peak > 1e-6 else samples


class SystemSynthesizer:
    """Shared by the three programs: split the text, run the program on each piece in a
    private temporary directory, read its WAV, trim it and yield it."""

    program: ClassVar[Program]
    blends: ClassVar[bool] = False

    @classmethod
    def voices(cls, settings: Settings) -> list[Voice]:
        """The program's installed voices (none when it is not installed)."""
        return system_voices(cls.program)

    @classmethod
    def user_voice(cls, spec: Mapping[str, Any], common: UserVoice) -> Voice:
        raise common.error(
            f"{cls.program} voices come from the system; customise one with "
            f'voice = "{cls.program}/..." (see `revoice voices`)'
        )

    @staticmethod
    def voice_file(voice: Voice) -> str | None:
        return None

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def load(self) -> None:
        """Nothing to load: the program starts once per piece."""

    def command(self, voice: str, speed: float, text_file: Path, wav_file: Path) -> list[str]:
        """The program's argument list for one piece (text in text_file, WAV to wav_file)."""
        raise NotImplementedError

    def _executable(self) -> str:
        path = discover().path(self.program)
        if path is None:
            raise EngineUnavailable(
                f"{self.program} is not installed (sudo apt-get install {self.program})"
            )
        return path

    def run(self, voice: str, text: str, speed: float) -> Audio:
        """Speak one piece of text; the program's own audio, not trimmed."""
        with tempfile.TemporaryDirectory(prefix=f"revoice-{self.program}-") as tmp:
            text_file = Path(tmp) / "text"
            wav_file = Path(tmp) / "speech.wav"
            text_file.write_text(text + "\n", encoding="utf-8")
            argv = self.command(voice, speed, text_file, wav_file)
            try:
                done = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    cwd=tmp,
                    timeout=TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise EngineUnavailable(
                    f"{self.program} took longer than {TIMEOUT:.0f} s on one sentence"
                ) from None
            except OSError as exc:
                raise EngineUnavailable(f"{self.program} could not start ({exc})") from None
            if done.returncode != 0 or not wav_file.is_file() or wav_file.stat().st_size == 0:
                why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
                raise EngineUnavailable(
                    f"{self.program} failed on {text[:60]!r} (exit status {done.returncode}"
                    f"{': ' + why[0] if why else ''})"
                )
            from revoice import codecs

            return codecs.decode(wav_file)

    def speak_piece(self, piece: str, spec: SystemVoice, speed: float) -> np.ndarray:
        """One piece as samples at the voice's rate, trimmed and levelled (may be empty)."""
        audio = self.run(spec.name, piece, speed).resample(spec.sample_rate)
        return _peak(trim_silence(audio.samples, spec.sample_rate))

    def synthesize(self, text: str, voice: Voice, options: SynthesisOptions) -> Iterator[Audio]:
        spec = _spec(voice, self.program)
        self._executable()  # fail before the first piece when the program has gone
        speed = effective_speed(voice, options)
        rate = spec.sample_rate
        pause = self._settings.tts.sentence_pause
        for piece in textsplit.pieces(text, lambda p: len(p) <= _MAX_CHARS):
            if any(ch.isalnum() for ch in piece):
                samples = self.speak_piece(piece, spec, speed)
            else:  # punctuation alone: nothing to say (festival crashes on it)
                samples = np.zeros(0, dtype=np.float32)
            yield with_pause(samples, rate, pause)


# -- festival -------------------------------------------------------------------------------

_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_LATIN = re.compile(r"[A-Za-z]")


def _script(word: str) -> str:
    """'deva', 'latin', 'neutral' (digits and punctuation) or 'other' (no voice says it)."""
    if _DEVANAGARI.search(word):
        return "deva"
    if _LATIN.search(word):
        return "latin"
    if not any(ch.isalpha() for ch in word):
        return "neutral"
    return "other"


def script_runs(sentence: str, own: str, partner: str | None = None) -> list[tuple[str, str]]:
    """A sentence cut into runs of words by script: ('deva' | 'latin', text).

    Digits and punctuation join the run around them. Words in `own` script stay; words in
    the `partner` script form runs of their own (said by the partner voice); words in any
    other script are left out, as festival itself would skip them. Festival segfaults on
    text with nothing it can say, so no run without a letter or digit is returned.
    """
    runs: list[list[str]] = []  # [script, words...]
    held: list[str] = []  # neutral words before the first run
    for word in sentence.split():
        kind = _script(word)
        if kind == "neutral":
            if runs:
                runs[-1].append(word)
            else:
                held.append(word)
            continue
        if kind not in (own, partner):
            continue
        if runs and runs[-1][0] == kind:
            runs[-1].append(word)
        else:
            runs.append([kind, *held, word])
            held = []
    if not runs and any(ch.isdigit() for ch in "".join(held)):
        runs.append([own, *held])  # only numbers: the voice says them in its own language
    return [(r[0], " ".join(r[1:])) for r in runs]


class FestivalSynthesizer(SystemSynthesizer):
    """festival's `text2wave`: the voice is chosen with `-eval (voice_<name>)`; speed
    divides Duration_Stretch (diphone voices) or sets HTS's speech rate `-r`."""

    program: ClassVar[Program] = "festival"

    def command(self, voice: str, speed: float, text_file: Path, wav_file: Path) -> list[str]:
        if not re.fullmatch(r"[A-Za-z0-9_]+", voice):  # it goes into a Scheme expression
            raise EngineUnavailable(f"not a festival voice name: {voice!r}")
        argv = [self._executable(), "-eval", f"(voice_{voice})"]
        if abs(speed - 1.0) > 1e-6:
            s = f"{speed:.4f}"
            argv += [
                "-eval",
                "(begin (Parameter.set 'Duration_Stretch "
                f"(/ (or (Parameter.get 'Duration_Stretch) 1.0) {s})) "
                "(if (symbol-bound? 'hts_engine_params) (set! hts_engine_params "
                f'(append hts_engine_params (list (list "-r" {s}))))))',
            ]
        return [*argv, "-o", str(wav_file), str(text_file)]

    def speak_piece(self, piece: str, spec: SystemVoice, speed: float) -> np.ndarray:
        """Hindi (NSK) says the Devanagari words and festival's kal the Latin ones; English
        voices say the Latin words. Runs are said one by one and joined."""
        own = "deva" if spec.name == NSK else "latin"
        partner = "latin" if own == "deva" and NSK_ENGLISH in discover().festival else None
        voices = {own: spec.name, **({partner: NSK_ENGLISH} if partner else {})}
        parts: list[np.ndarray] = []
        gap = np.zeros(int(_RUN_GAP * spec.sample_rate), dtype=np.float32)
        for kind, words in script_runs(piece, own, partner):
            audio = self.run(voices[kind], words, speed).resample(spec.sample_rate)
            said = trim_silence(audio.samples, spec.sample_rate)
            if len(said):
                parts += [gap, _peak(said)] if parts else [_peak(said)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


# -- flite ----------------------------------------------------------------------------------


class FliteSynthesizer(SystemSynthesizer):
    """`flite -voice NAME -f TEXT -o WAV`; speed divides the duration_stretch feature."""

    program: ClassVar[Program] = "flite"

    def command(self, voice: str, speed: float, text_file: Path, wav_file: Path) -> list[str]:
        return [
            self._executable(),
            "-voice",
            voice,
            "--setf",
            f"duration_stretch={1.0 / speed:.4f}",
            "-f",
            str(text_file),
            "-o",
            str(wav_file),
        ]


# -- espeak-ng ------------------------------------------------------------------------------


class EspeakSynthesizer(SystemSynthesizer):
    """`espeak-ng -v LANG[+VARIANT] -s WPM -b 1 -f TEXT -w WAV`; speed scales the words per
    minute (175 at speed 1; espeak-ng says nothing slower than 80, about speed 0.46)."""

    program: ClassVar[Program] = "espeak-ng"

    def command(self, voice: str, speed: float, text_file: Path, wav_file: Path) -> list[str]:
        low, high = ESPEAK_WPM_RANGE
        wpm = min(max(round(ESPEAK_WPM * speed), low), high)
        return [
            self._executable(),
            "-v",
            voice,
            "-s",
            str(wpm),
            "-b",
            "1",  # the text is UTF-8
            "-f",
            str(text_file),
            "-w",
            str(wav_file),
        ]
