"""The `revoice` command: every subcommand, and one-line errors for a user's mistakes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from revoice import codecs
from revoice.audio import Audio
from revoice.cli import main
from tests.helpers import HUMAN, Clip, normalize

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


def test_voices_json_is_the_apis_voice_shape(
    env_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`voices --json` and GET /v1/audio/voices say a voice the same way: a made voice keeps
    its parent and controls (the CLI's JSON used to drop them)."""
    from revoice.api.schemas import VoiceOut

    code, _, err = run(
        [
            "voices",
            "add",
            "narrator",
            "--from",
            "english-female",
            "--pitch",
            "-2",
            "--formant",
            "0.95",
        ],
        capsys,
    )
    assert code == 0, err
    code, out, _ = run(["voices", "--json"], capsys)
    rows = {row["id"]: row for row in json.loads(out)}
    made = rows["narrator"]
    assert (made["parent"], made["pitch"], made["formant"], made["source"]) == (
        "english-female",
        -2.0,
        0.95,
        "user",
    )
    for row in rows.values():
        assert VoiceOut(**row).model_dump() == row


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
        assert "words" not in data  # not asked for: left out, not an empty list
        check_whisper_facts(data["segments"], env_home)
    if fmt == "srt":
        assert out.startswith("1\n00:00:0")
    if fmt == "vtt":
        assert out.startswith("WEBVTT")


def check_whisper_facts(segments: list[dict[str, object]], home: Path) -> None:
    """Each segment's tokens, compression ratio, temperature and seek are Whisper's own, not
    placeholders: the tokens spell the segment's text, the ratio is its text's gzip ratio."""
    from faster_whisper.transcribe import get_compression_ratio
    from tokenizers import Tokenizer

    from revoice import assets

    tokenizer = Tokenizer.from_file(str(assets.whisper_base_dir(home) / "tokenizer.json"))
    for segment in segments:
        tokens = segment["tokens"]
        assert isinstance(tokens, list) and tokens and all(isinstance(t, int) for t in tokens)
        text = tokenizer.decode([t for t in tokens if t < 50257])  # timestamps are > eot
        assert text.strip() == segment["text"]
        ratio = segment["compression_ratio"]
        assert isinstance(ratio, float) and ratio > 0
        assert abs(ratio - get_compression_ratio(text)) < 0.35, (ratio, text)
        assert segment["temperature"] == 0.0
        assert isinstance(segment["seek"], int) and segment["seek"] >= 0


def test_subtitles_of_a_long_recording_are_cut_to_subtitle_size(
    env_home: Path, capsys: pytest.CaptureFixture[str], clips: list[Clip]
) -> None:
    """What was seen: SRT cues of 29 s holding 14 sentences. Human speech, 47 s, the clips
    0.3 s apart (so Whisper's segments run over several of them)."""
    from revoice.transcripts import MAX_CUE_SECONDS, MAX_LINE, MAX_LINES
    from tests.api.helpers import SRT_STAMP, check_cues, cues

    parts: list[Audio] = []
    for clip in clips:
        parts += [clip.audio.resample(16000), Audio.silence(0.3, 16000)]
    recording = Audio.concat(parts)
    path = env_home / "long.wav"
    codecs.write(recording, path)
    code, out, err = run(["transcribe", str(path), "--format", "srt"], capsys)
    assert code == 0, err
    blocks = out.strip("\n").split("\n\n")
    assert [int(b.split("\n")[0]) for b in blocks] == list(range(1, len(blocks) + 1))
    for block in blocks:
        lines = block.split("\n")[2:]
        assert 1 <= len(lines) <= MAX_LINES and all(len(line) <= MAX_LINE for line in lines)
    found = cues(out, SRT_STAMP)
    assert len(found) == len(blocks) >= 10
    assert all(end - start <= MAX_CUE_SECONDS for start, end, _ in found)
    reference = " ".join(clip.transcript for clip in clips)
    check_cues(found, reference, recording.duration, max_wer=0.15)
    # the 22-word first sentence (6 s) does not fit one cue: it is cut, and not before "had"
    first = [text for _, _, text in found[:3]]
    assert "dashwood" in normalize(first[0]) and "for them" not in normalize(first[0])
    assert any(block.count("\n") == 3 for block in blocks)  # two-line cues are used


def test_speak_writes_the_format_of_the_suffix(
    env_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for suffix in (".mp3", ".flac", ".ogg", ".wav", ".m4a", ".opus", ".aac"):
        target = env_home / f"hello{suffix}"
        code, out, err = run(
            ["speak", "Hello there.", "-v", "english-male-1", "-o", str(target)], capsys
        )
        assert code == 0, err
        audio = codecs.decode(target)
        assert audio.duration > 0.5 and audio.rms() > 0.01
        # where it wrote, on standard error (standard output can be the audio: -o -)
        assert (
            out == ""
            and err.startswith(f"revoice: wrote {target} (")
            and "s, english-male-1)" in err
        )
    assert "hello there" in normalize(main_transcript(env_home / "hello.m4a"))


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
        (
            ["speak", "hi", "-v", "english-femal", "-o", "x.wav"],
            "unknown voice 'english-femal' (did you mean 'english-female'?); valid voices:",
        ),
        (
            ["convert", str(CLIP), "-v", "jf_alpha", "-o", "x.wav"],
            "(did you mean 'kokoro/jf_alpha'?)",
        ),
        (["speak", "hi", "-v", "shimer", "-o", "x.wav"], "(did you mean 'shimmer'?)"),
        (["speak", "hi", "-o", "x.wav", "-F", "mp3"], "--format mp3 does not match"),
        (["convert", str(CLIP), str(CLIP), "-o", "-"], "-o - writes one recording"),
        (["speak", "hi", "-o", "/nonexistent-dir/x.wav"], "does not exist"),
        (["speak", "hi", "-o", "x.xyz"], "cannot tell the output format"),
        (["speak", "...", "-o", "x.wav"], "nothing to say"),
        (["transcribe", "/no/such/file.wav"], "cannot read /no/such/file.wav: no such file"),
        (["convert", "/no/such/dir", "-o", "out"], "cannot read /no/such/dir: no such file"),
        (["transcribe", str(HUMAN)], f"cannot read {HUMAN}: it is a directory"),
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
    """What the default Whisper model hears in an output file (English)."""
    from revoice.asr.base import TranscribeOptions
    from revoice.config import Settings
    from revoice.pipeline import Pipeline

    return (
        Pipeline(Settings()).transcribe(codecs.decode(path), TranscribeOptions(language="en")).text
    )


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


def test_serve_on_a_busy_port_says_so_at_once(
    env_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another server on the port: one line, before any model loads (it used to be uvicorn's
    Errno 98 after the models had loaded)."""
    import socket

    from revoice import server

    def never(*_: object, **__: object) -> None:
        raise AssertionError("the server started (and loaded its models) on a busy port")

    monkeypatch.setattr(server, "serve", never)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is in use" in err and "--port" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


MISSING = "/no/such/recording.wav"


@pytest.mark.parametrize(
    "args",
    [
        ["transcribe", MISSING],
        ["convert", MISSING, "-o", "x.wav"],
        ["convert", MISSING, str(CLIP), "-o", "out"],
        ["voices", "add", "mine", "--like-me", MISSING],
        ["speak", "-f", MISSING, "-o", "x.wav"],
    ],
)
def test_a_missing_file_is_the_same_one_line_everywhere(
    env_home: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    os.chdir(env_home)
    code, _, err = run(args, capsys)
    assert (code, err) == (2, f"revoice: error: cannot read {MISSING}: no such file or directory\n")


@pytest.mark.parametrize("command", ["transcribe", "convert"])
def test_a_text_file_given_as_audio_is_named_and_explained(
    env_home: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    notes = env_home / "notes.txt"
    notes.write_text("Buy milk.\nCall the bank about the card — नमस्ते.\n", encoding="utf-8")
    args = [command, str(notes)] + (["-o", str(env_home / "x.wav")] if command == "convert" else [])
    code, _, err = run(args, capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"cannot read {notes}: it is a text file, not a readable audio file" in err
    assert f"revoice speak -f {notes}" in err
    # a binary file that is not audio is named too, with what revoice reads
    junk = env_home / "junk.wav"
    junk.write_bytes(bytes(range(256)) * 20)
    code, _, err = run(["transcribe", str(junk)], capsys)
    assert code == 2 and f"cannot read {junk}: not a readable audio file" in err


def _voice_ids(capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["voices", "--json"]) == 0
    return [row["id"] for row in json.loads(capsys.readouterr().out)]


def test_voices_in_a_pipe_print_whole_ids(
    env_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`revoice voices | cat` cut ids at 80 columns (`kokoro/jf_gongi...`)."""
    ids = _voice_ids(capsys)
    code, out, _ = run(["voices"], capsys)
    assert code == 0 and "…" not in out and "..." not in out
    lines = out.splitlines()
    assert lines[0].split() == ["id", "engine", "languages", "gender", "rate", "description"]
    assert [line.split()[0] for line in lines[1:]] == ids  # the first field: a whole id
    assert any(len(i) > 16 for i in ids)  # the ones the table cut


@pytest.mark.parametrize("columns", [80, 60])
def test_voices_on_a_terminal_never_cut_an_id(env_home: Path, columns: int) -> None:
    """On a real terminal (a pty) of 80 and 60 columns, every id is shown whole."""
    import fcntl
    import pty
    import struct
    import termios

    listed = subprocess.run(
        [sys.executable, "-m", "revoice", "voices", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    ids = [row["id"] for row in json.loads(listed.stdout)]
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm", "NO_COLOR": "1"}
    with subprocess.Popen(
        [sys.executable, "-m", "revoice", "voices"],
        stdout=secondary,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=120) == 0
    os.close(primary)
    screen = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    screen = re.sub(r"\x1b\[[0-9;]*m", "", screen)  # bold headers
    shown = set(re.findall(r"[\w./+-]+", screen))
    missing = [i for i in ids if i not in shown]
    assert not missing, missing
    wide = [
        line for line in screen.splitlines() if ("│" in line or "┃" in line) and len(line) > columns
    ]
    assert not wide, wide[:3]


def test_speak_to_standard_output(env_home: Path) -> None:
    """`-o -` was refused; a pipe now gets the audio as it is made (wav by default), and
    standard error says what was written."""
    for extra, kind in (([], "wav"), (["--format", "mp3"], "mp3")):
        done = subprocess.run(
            [sys.executable, "-m", "revoice", "speak", "Hello there.", "-o", "-", *extra],
            capture_output=True,
            timeout=300,
            env=os.environ.copy(),
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr.decode().startswith(f"revoice: wrote standard output ({kind}, ")
        target = env_home / f"piped.{kind}"
        target.write_bytes(done.stdout)
        if kind == "wav":
            assert done.stdout[:4] == b"RIFF"
        assert "hello there" in normalize(main_transcript(target))


def test_convert_to_standard_output(
    env_home: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code = main(["convert", str(CLIP), "-v", "english-male-1", "-o", "-", "--format", "flac"])
    out, err = capsysbinary.readouterr()
    assert code == 0, err
    assert out[:4] == b"fLaC"  # only audio on standard output: the transcript went to stderr
    assert b"-> standard output: " in err and b"young man" in err.lower()
    target = env_home / "converted.flac"
    target.write_bytes(out)
    assert "young man" in normalize(main_transcript(target))


def test_audio_is_not_written_to_a_terminal(
    env_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, _, err = run(["speak", "Hello.", "-o", "-"], capsys)
    assert code == 2 and "standard output, which is a terminal" in err and err.count("\n") == 1


def test_m4a_output_from_a_directory_conversion(
    env_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    indir = env_home / "in"
    indir.mkdir()
    # prose: Piper's "seven of clubs" through AAC was heard as "cloths", "clogs", "clouds" or
    # "claude's" in 6 of 40 round trips (2026-12-08); this line was heard right in 20 of 20
    shutil.copy(HUMAN / "forever.wav", indir / "b.wav")  # "feels like these days go on forever"
    outdir = env_home / "out"
    code, _, err = run(["convert", str(indir), "-o", str(outdir), "--format", "m4a"], capsys)
    assert code == 0, err
    assert [p.name for p in outdir.iterdir()] == ["b.m4a"]
    assert "these days go on forever" in normalize(main_transcript(outdir / "b.m4a"))


def test_voices_preview_says_what_it_wrote(
    env_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = env_home / "preview.ogg"
    code, _, err = run(["voices", "preview", "english-female", "-o", str(target)], capsys)
    assert code == 0 and err.startswith(f"revoice: wrote {target} (ogg, ")
    assert codecs.decode(target).duration > 1
