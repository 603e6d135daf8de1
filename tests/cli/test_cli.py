"""The `revoice` command: every subcommand, and one-line errors for a user's mistakes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from revoice import codecs
from revoice.audio import Audio
from revoice.cli import main
from tests.helpers import HUMAN, normalize

CLIP = HUMAN / "librivox-0880.wav"  # "he was not an ill disposed young man"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_voices_json(env_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["voices", "--json"], capsys)
    rows = {row["id"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["hindi-female-1"]["languages"] == ["hi"]
    assert rows["english-male-1"]["gender"] == "male"
    assert all({"engine", "sample_rate", "description"} <= set(r) for r in rows.values())


def test_voices_table_lists_user_voices(env_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env_home / "voices.toml").write_text(
        '[voices.narrator]\nengine = "kokoro"\nblend = { jf_alpha = 0.6, jm_kumo = 0.4 }\n'
    )
    code, out, _ = run(["voices"], capsys)
    assert code == 0 and "narrator" in out and "english-female" in out


@pytest.mark.parametrize("fmt", ["text", "json", "srt", "vtt"])
def test_transcribe_formats(env_home: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, _ = run(["transcribe", str(CLIP), "--format", fmt], capsys)
    assert code == 0
    assert "young man" in normalize(out)
    if fmt == "json":
        data = json.loads(out)
        assert data["language"] == "en" and data["segments"][0]["end"] > 1
    if fmt == "srt":
        assert out.startswith("1\n00:00:0")
    if fmt == "vtt":
        assert out.startswith("WEBVTT")


def test_speak_writes_the_format_of_the_suffix(
    env_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for suffix in (".mp3", ".flac", ".ogg", ".wav"):
        target = env_home / f"hello{suffix}"
        code, _, err = run(
            ["speak", "Hello there.", "-v", "english-male-1", "-o", str(target)], capsys
        )
        assert code == 0, err
        audio = codecs.decode(target)
        assert audio.duration > 0.5 and audio.rms() > 0.01


def test_speak_reads_a_text_file(env_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = env_home / "words.txt"
    text.write_text("First sentence here. Second sentence there.", encoding="utf-8")
    target = env_home / "words.wav"
    code, _, _ = run(
        ["speak", "-f", str(text), "-v", "english-female", "-o", str(target), "--speed", "1.2"],
        capsys,
    )
    assert code == 0 and codecs.decode(target).duration > 1.5


def test_convert_one_file_and_a_directory(
    env_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    single = env_home / "single.mp3"
    code, out, err = run(["convert", str(CLIP), "-v", "english-male-2", "-o", str(single)], capsys)
    assert code == 0, err
    assert "young man" in normalize(out) and codecs.decode(single).duration > 1
    indir = env_home / "in"
    indir.mkdir()
    shutil.copy(CLIP, indir / "a.wav")
    shutil.copy(HUMAN / "cards-003.wav", indir / "b.wav")  # "seven of clubs"
    outdir = env_home / "out"
    code, out, err = run(
        ["convert", str(indir), "-v", "english-male-1", "-o", str(outdir), "--format", "flac"],
        capsys,
    )
    assert code == 0, err
    assert sorted(p.name for p in outdir.iterdir()) == ["a.flac", "b.flac"]
    assert "seven of clubs" in normalize(out)


def _bad_inputs(tmp: Path) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    files = {
        "empty": tmp / "empty.wav",
        "random": tmp / "random.wav",
        "truncated": tmp / "truncated.wav",
        "zero-length": tmp / "zero.wav",
    }
    files["empty"].write_bytes(b"")
    files["random"].write_bytes(rng.bytes(5000))
    files["truncated"].write_bytes(CLIP.read_bytes()[:30])
    codecs.write(Audio(np.zeros(0, np.float32), 16000), files["zero-length"])
    return files


@pytest.mark.parametrize("case", ["empty", "random", "truncated", "zero-length", "silence"])
def test_bad_recordings_give_one_line_errors(
    env_home: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    files = _bad_inputs(env_home)
    if case == "silence":
        files[case] = env_home / "silence.wav"
        codecs.write(Audio.silence(2, 16000), files[case])
    code, _, err = run(
        ["convert", str(files[case]), "-v", "english-male-1", "-o", str(env_home / "o.wav")], capsys
    )
    assert code == 2
    assert err.startswith("revoice: error: ") and err.count("\n") == 1
    assert "Traceback" not in err and not (env_home / "o.wav").exists()


def test_transcribing_silence_prints_nothing(
    env_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = env_home / "silence.wav"
    codecs.write(Audio.silence(2, 16000), path)
    code, out, _ = run(["transcribe", str(path)], capsys)
    assert code == 0 and out.strip() == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["speak", "hi", "-v", "nobody", "-o", "x.wav"], "unknown voice 'nobody'; valid voices:"),
        (["speak", "hi", "-o", "/nonexistent-dir/x.wav"], "does not exist"),
        (["speak", "hi", "-o", "x.xyz"], "cannot tell the output format"),
        (["speak", "...", "-o", "x.wav"], "nothing to say"),
        (["transcribe", "/no/such/file.wav"], "no such audio file"),
        (["convert", "/no/such/dir", "-o", "out"], "no such file or directory"),
        (["transcribe", str(CLIP), "--language", "english!"], "language must be"),
        (["speak", "hi", "--speed", "9", "-o", "x.wav"], "speed must be between"),
    ],
)
def test_user_mistakes_are_one_line(
    env_home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    os.chdir(env_home)
    code, _, err = run(args, capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_unwritable_output_path(env_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = env_home / "readonly"
    target.mkdir()
    target.chmod(0o500)
    try:
        if os.access(target, os.W_OK):  # root ignores permissions: use a path under a file
            blocker = env_home / "afile"
            blocker.write_text("x")
            out = blocker / "x.wav"
        else:
            out = target / "x.wav"
        code, _, err = run(["speak", "Hello.", "-o", str(out)], capsys)
        assert code == 2 and err.startswith("revoice: error: ") and err.count("\n") == 1
    finally:
        target.chmod(0o700)


def test_the_installed_command_runs(env_home: Path) -> None:
    exe = Path(sys.executable).parent / "revoice"
    result = subprocess.run(
        [str(exe), "speak", "hi", "-v", "nope", "-o", "x.wav"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "unknown voice" in result.stderr
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.startswith("revoice ")


def test_convert_never_writes_over_its_inputs(
    env_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`convert dir/ -o dir/` used to overwrite the recordings with their conversions."""
    folder = env_home / "memos"
    folder.mkdir()
    shutil.copy(CLIP, folder / "a.wav")
    original = (folder / "a.wav").read_bytes()
    code, _, err = run(["convert", str(folder), "-o", str(folder), "--format", "wav"], capsys)
    assert code == 0, err
    assert (folder / "a.wav").read_bytes() == original
    converted = folder / "a-2.wav"
    assert "young man" in normalize(main_transcript(converted))
    code, _, err = run(["convert", str(folder / "a.wav"), "-o", str(folder / "a.wav")], capsys)
    assert code == 2 and "is the recording being converted" in err
    assert (folder / "a.wav").read_bytes() == original


def main_transcript(path: Path) -> str:
    from revoice.pipeline import Pipeline

    return Pipeline().transcribe(codecs.decode(path), model="tiny.en").text


def test_a_read_only_file_system_is_one_line(
    env_home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """As root, only a read-only mount refuses writes: the CLI used to print a traceback."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a read-only tmpfs")
    where = tmp_path / "ro"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", str(where)])
    if mounted.returncode != 0:
        pytest.skip("this sandbox does not allow mounting a tmpfs")
    try:
        for args in (
            ["speak", "Hello.", "-o", str(where / "x.wav")],
            ["convert", str(CLIP), "-o", str(where / "x.wav")],
            ["convert", str(CLIP), str(CLIP), "-o", str(where)],
        ):
            code, _, err = run(args, capsys)
            assert code == 2, (args, err)
            assert err.startswith("revoice: error: ") and err.count("\n") == 1, err
            assert "not writable" in err
    finally:
        subprocess.run(["umount", str(where)], check=False)
