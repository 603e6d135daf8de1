"""The `revoice` command: transcribe, speak, convert, voices, serve.

A user's mistake prints one line (`revoice: error: ...`) and exits with status 2; nothing
the user did wrong ever shows a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from revoice import __version__, codecs
from revoice.audio import Audio
from revoice.config import Settings
from revoice.errors import OutputError, RevoiceError
from revoice.types import FORMANT, PITCH, SPEED, VOLUME

AUDIO_SUFFIXES = {
    ".wav",
    ".flac",
    ".mp3",
    ".ogg",
    ".oga",
    ".opus",
    ".webm",
    ".m4a",
    ".aac",
    ".mp4",
    ".wma",
    ".aiff",
    ".aif",
    ".caf",
    ".mka",
}
#: audio formats the CLI writes (`--format`; else the suffix of `-o`)
OUTPUT_FORMATS = tuple(codecs.FORMATS)
#: `-o -`: the audio goes to standard output
STDOUT = Path("-")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="revoice",
        description="Transcribe speech and speak it again in a voice you choose, offline.",
    )
    parser.add_argument("--version", action="version", version=f"revoice {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("transcribe", help="speech to text")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--language", "-l", help="spoken language (e.g. en, hi); default: detect")
    p.add_argument(
        "--task",
        choices=("transcribe", "translate"),
        default="transcribe",
        help="translate gives English text",
    )
    p.add_argument("--format", "-F", choices=("text", "json", "srt", "vtt"), default="text")
    p.add_argument("--model", "-m", help="ASR model: base, tiny.en or a model directory")
    p.add_argument("--output", "-o", type=Path, help="write here instead of standard output")

    p = sub.add_parser("speak", help="text to speech")
    p.add_argument("text", nargs="?", help="the text to speak (or use -f)")
    p.add_argument("--file", "-f", type=Path, help="read the text from this file ('-' = stdin)")
    p.add_argument("--voice", "-v", help="voice id (see `revoice voices`)")
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        required=True,
        help="output file; its suffix picks the format (.wav, .flac, .mp3, .ogg, .opus, .m4a, "
        ".aac); '-' writes to standard output",
    )
    p.add_argument(
        "--format",
        "-F",
        choices=OUTPUT_FORMATS,
        help="audio format for -o - (default wav)",
    )
    p.add_argument("--speed", type=float, help=f"{SPEED.help} (1.0 = the voice's own pace)")

    p = sub.add_parser("convert", help="voice to voice: re-speak recordings in another voice")
    p.add_argument("inputs", nargs="+", type=Path, metavar="FILE_OR_DIR")
    p.add_argument("--voice", "-v", help="voice id (see `revoice voices`)")
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        required=True,
        help="output file for one input ('-' = standard output), or a directory for several",
    )
    p.add_argument(
        "--format",
        "-F",
        choices=OUTPUT_FORMATS,
        help="format of files written into an output directory, or to -o - (default wav)",
    )
    p.add_argument("--language", "-l", help="spoken language; default: detect")
    p.add_argument(
        "--task",
        choices=("transcribe", "translate"),
        default="transcribe",
        help="translate: say it in English",
    )
    p.add_argument(
        "--reply",
        action="store_true",
        help="say an answer to what was said (text model: REVOICE_TEXT__*)",
    )
    p.add_argument(
        "--instruction",
        help="rewrite what is said, e.g. 'summarise' or "
        "'make it formal' (text model: REVOICE_TEXT__*)",
    )
    p.add_argument("--speed", type=float, help=SPEED.help)
    p.add_argument("--model", "-m", help="ASR model: base, tiny.en or a model directory")

    p = sub.add_parser("voices", help="list, add, remove and preview voices")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    vs = p.add_subparsers(dest="action", metavar="ACTION")
    a = vs.add_parser("add", help="save a custom voice in your voices file")
    a.add_argument("id", help="new voice id (lower-case letters, digits, . _ -)")
    source = a.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from", dest="parent", metavar="VOICE", help="start from this catalogue voice"
    )
    source.add_argument(
        "--like-me",
        type=Path,
        metavar="RECORDING",
        help="pick the shipped voice nearest to your recording, pitch-matched",
    )
    a.add_argument("--pitch", type=float, help=PITCH.help)
    a.add_argument("--formant", type=float, help=f"vocal tract ratio {FORMANT.help} (<1 deeper)")
    a.add_argument("--volume", type=float, help=VOLUME.help)
    a.add_argument("--speed", type=float, help=SPEED.help)
    a.add_argument("--blend", help="Kokoro styles, e.g. jf_alpha=0.6,jm_kumo=0.4")
    a.add_argument("--description", help="one line shown in the catalogue")
    a.add_argument(
        "--force",
        "--replace",
        dest="force",
        action="store_true",
        help="replace your voice of that id (without it, an existing voice is kept)",
    )
    r = vs.add_parser("remove", help="delete a custom voice")
    r.add_argument("id")
    pv = vs.add_parser("preview", help="hear a voice: write a short sample")
    pv.add_argument("id")
    pv.add_argument("--output", "-o", type=Path, required=True, help="'-' = standard output")
    pv.add_argument("--format", "-F", choices=OUTPUT_FORMATS, help="for -o - (default wav)")
    pv.add_argument("--text", help="what to say (default: a sample sentence)")

    p = sub.add_parser("serve", help="run the web page (and API) server")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.add_argument(
        "--ssl-certfile",
        type=Path,
        help="TLS certificate (for microphone access from other machines, browsers need HTTPS)",
    )
    p.add_argument("--ssl-keyfile", type=Path, help="TLS private key")
    p.add_argument(
        "--ray",
        action="store_true",
        help="serve on Ray Serve, each engine a deployment that scales on its own "
        "(needs the ray extra: .venv/bin/pip install -e '.[ray]'; settings: REVOICE_RAY__*)",
    )
    p.add_argument(
        "--address",
        help="with --ray: the cluster to join ('auto' = the `ray start` cluster on this "
        "machine, or ray://host:10001); default: start Ray here",
    )
    p.add_argument(
        "--wyoming",
        metavar="URI",
        help="also serve speech to text and text to speech to Home Assistant over Wyoming, "
        "e.g. tcp://0.0.0.0:10300 (setting: REVOICE_WYOMING__URI)",
    )
    p.add_argument(
        "--no-http",
        action="store_true",
        help="serve only the Wyoming door: no web page, no HTTP API",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
        handler = {
            "transcribe": _transcribe,
            "speak": _speak,
            "convert": _convert,
            "voices": _voices,
            "serve": _serve,
        }[args.command]
        return handler(args, settings)
    except RevoiceError as exc:
        print(f"revoice: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("revoice: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `revoice voices | head`: the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
        return 1


def _transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from revoice.pipeline import Pipeline
    from revoice.transcripts import render
    from revoice.types import TranscribeOptions

    pipeline = Pipeline(settings)
    # subtitles are cut to size at word times (revoice.transcripts.cues)
    options = TranscribeOptions(
        language=args.language, task=args.task, word_timestamps=args.format in ("srt", "vtt")
    )
    outputs = []
    for path in args.files:
        transcript = pipeline.transcribe(_decode(path), options, args.model)
        text = render(transcript, "verbose_json" if args.format == "json" else args.format)
        if args.format == "json":
            payload = json.loads(text)
            payload["file"] = str(path)
            text = json.dumps(payload, ensure_ascii=False, indent=2)
        elif len(args.files) > 1 and args.format == "text":
            text = f"{path}: {text}"
        outputs.append(text)
    result = "\n".join(outputs) + "\n"
    if args.output:
        _write_text(args.output, result)
    else:
        sys.stdout.write(result)
    return 0


def _decode(path: Path) -> Audio:
    """A recording given on the command line; a text file given as one gets the way to speak
    it."""
    from revoice.errors import AudioDecodeError

    try:
        return codecs.decode(path)
    except AudioDecodeError as exc:
        if exc.text_file:
            raise AudioDecodeError(
                f"{exc} (to speak a text file: revoice speak -f {path})"
            ) from None
        raise


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _read_text(args: argparse.Namespace) -> str:
    from revoice.errors import InvalidOption

    if args.file and args.text:
        raise InvalidOption("give the text or --file, not both", "text")
    if args.file:
        from revoice.codecs import unreadable

        stdin = str(args.file) == "-"
        reason = None if stdin else unreadable(args.file)
        if reason:
            raise InvalidOption(f"cannot read {args.file}: {reason}", "file")
        try:
            raw = sys.stdin.buffer.read() if stdin else args.file.read_bytes()
        except OSError as exc:
            raise InvalidOption(f"cannot read {args.file}: {exc.strerror or exc}", "file") from None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidOption(
                f"cannot read {args.file}: it is not UTF-8 text (an audio file? "
                "convert re-speaks recordings: revoice convert FILE -o OUT)",
                "file",
            ) from None
    if not args.text:
        raise InvalidOption("nothing to say: give the text or --file FILE", "text")
    return str(args.text)


def _output_format(path: Path, fmt: str | None) -> codecs.Format:
    """The format of an output: `--format` for standard output (default wav), else the
    file's suffix, which `--format` must then agree with."""
    from revoice.errors import InvalidOption

    if path == STDOUT:
        return codecs.get_format(fmt or "wav")
    chosen = codecs.format_for_path(path)
    if fmt and codecs.get_format(fmt).suffix != chosen.suffix:
        raise InvalidOption(
            f"--format {fmt} does not match the output name {path}: "
            f"end it with .{fmt}, or leave --format out",
            "format",
        )
    return chosen


def _check_output(path: Path, fmt: str | None = None) -> codecs.Format:
    """Fail before any work when the output cannot be written; its format."""
    from revoice.errors import InvalidOption

    chosen = _output_format(path, fmt)
    if path == STDOUT:
        if sys.stdout.isatty():
            raise InvalidOption(
                "-o - writes audio to standard output, which is a terminal: "
                "redirect it (> speech.wav) or pipe it (| aplay, | ffplay -)",
                "output",
            )
        return chosen
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {path}: directory {parent} is not writable")
    return chosen


def _speak(args: argparse.Namespace, settings: Settings) -> int:
    from revoice.errors import InvalidOption
    from revoice.pipeline import Pipeline
    from revoice.types import SynthesisOptions

    text = _read_text(args)
    if not any(ch.isalnum() for ch in text):
        raise InvalidOption("the text has nothing to say (no letters or digits)", "text")
    fmt = _check_output(args.output, args.format)
    pipeline = Pipeline(settings)
    voice = pipeline.voice(args.voice)
    chunks = pipeline.speak(text, voice, SynthesisOptions(speed=args.speed))
    seconds = _write_stream(chunks, args.output, fmt)
    _say_written(args.output, fmt, seconds, voice.id)
    return 0


def _say_written(path: Path, fmt: codecs.Format, seconds: float, voice: str) -> None:
    """Where the audio went, on standard error (standard output may be the audio)."""
    where = "standard output" if path == STDOUT else str(path)
    print(f"revoice: wrote {where} ({fmt.name}, {seconds:.1f} s, {voice})", file=sys.stderr)


def _write_stream(chunks: Iterator[Audio], path: Path, fmt: codecs.Format) -> float:
    """Encode chunks into `path` as they come (a temp name, renamed when complete), or to
    standard output for `-o -`; the seconds of audio written."""
    if path == STDOUT:
        return _write_stdout(chunks, fmt)
    tmp = path.with_name(f".{path.name}.part")
    try:
        with tmp.open("wb") as out:
            seconds = _encode_into(chunks, fmt, out, streaming=False)
        tmp.replace(path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):  # e.g. a read-only file system: nothing was written
            tmp.unlink(missing_ok=True)
    return seconds


def _write_stdout(chunks: Iterator[Audio], fmt: codecs.Format) -> float:
    """Audio to standard output, each sentence as soon as it is made. A pipe gets a WAV
    header of unknown length (as streamed by OpenAI's API: players read it to the end); a
    redirect to a file gets the exact one."""
    out = sys.stdout.buffer
    try:
        seekable = out.seekable()
    except OSError:
        seekable = False
    try:
        seconds = _encode_into(chunks, fmt, out, streaming=not seekable)
        out.flush()
    except BrokenPipeError:
        raise  # main() ends quietly: the reader stopped listening
    except OSError as exc:
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None
    return seconds


def _encode_into(
    chunks: Iterator[Audio], fmt: codecs.Format, out: BinaryIO, *, streaming: bool
) -> float:
    from revoice.errors import InvalidOption

    encoder = None
    seconds = 0.0
    for chunk in chunks:
        if encoder is None:
            encoder = codecs.StreamEncoder(fmt, chunk.sample_rate, streaming=streaming)
        out.write(encoder.push(chunk))
        if streaming:
            out.flush()
        seconds += chunk.duration
    if encoder is None:
        raise InvalidOption("there was nothing to say")
    out.write(encoder.close())
    return seconds


def _collect_inputs(inputs: list[Path]) -> list[Path]:
    from revoice.errors import InvalidOption

    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(
                p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
            if not found:
                raise InvalidOption(f"no audio files in directory {item}")
            files.extend(found)
        elif item.is_file():
            files.append(item)
        else:
            from revoice.codecs import unreadable

            raise InvalidOption(f"cannot read {item}: {unreadable(item) or 'not a file'}")
    return files


def _convert(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import Progress

    from revoice.errors import InvalidOption
    from revoice.pipeline import ConversionOptions, Pipeline

    files = _collect_inputs(args.inputs)
    to_stdout = args.output == STDOUT
    if to_stdout and len(files) > 1:
        raise InvalidOption(
            f"-o - writes one recording's speech to standard output; {len(files)} inputs "
            "were given: give one, or an output directory",
            "output",
        )
    single = to_stdout or (len(files) == 1 and args.output.suffix.lower() in codecs.SUFFIXES)
    formats: list[codecs.Format]
    if single:
        formats = [_check_output(args.output, args.format)]
        if not to_stdout and args.output.exists() and args.output.resolve() == files[0].resolve():
            raise OutputError(
                f"{args.output} is the recording being converted: choose another output name"
            )
        targets = [args.output]
    else:
        if args.output.exists() and not args.output.is_dir():
            raise OutputError(f"{args.output} is a file; give a directory for several inputs")
        try:
            args.output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {args.output}: {exc.strerror or exc}") from None
        if not os.access(args.output, os.W_OK):
            raise OutputError(f"cannot write to {args.output}: the directory is not writable")
        chosen = codecs.get_format(args.format or "wav")
        targets = _unique_targets(files, args.output, chosen.suffix.lstrip("."))
        formats = [chosen] * len(files)
    pipeline = Pipeline(settings)
    voice = pipeline.voice(args.voice)  # an unknown voice fails before any work
    options = ConversionOptions(
        voice,
        args.language,
        args.task,
        "reply" if args.reply else "none",
        args.instruction,
        args.speed,
        args.model,
    )
    failures = 0
    with Progress(transient=True, disable=single or not sys.stderr.isatty()) as progress:
        task = progress.add_task("converting", total=len(files))
        for source, target, fmt in zip(files, targets, formats, strict=True):
            progress.update(task, description=source.name)
            try:
                conversion = pipeline.conversion(_decode(source), options, streamed=False)
                said = conversion.transcript.text
                if not said:
                    raise InvalidOption(f"no speech found in {source}")
                spoken = conversion.text  # the text step, if any, before a file is written
                _write_stream(conversion.speech, target, fmt)
                line = f"{source} -> {'standard output' if to_stdout else target}: {said}"
                if spoken != said:
                    line += f"\n  spoken: {spoken}"
                # standard output may be the audio itself
                print(line, file=sys.stderr if to_stdout else sys.stdout)
            except RevoiceError as exc:
                if single:
                    raise
                failures += 1
                print(f"revoice: error: {source}: {exc}", file=sys.stderr)
            progress.advance(task)
    if failures:
        print(f"revoice: {failures} of {len(files)} files failed", file=sys.stderr)
        return 1
    return 0


def _unique_targets(files: list[Path], outdir: Path, fmt: str) -> list[Path]:
    """One output per input, named after it; clashing names get a number, and so does a name
    that is one of the inputs (`convert dir/ -o dir/` never writes over a recording)."""
    seen: set[str] = set()
    inputs = {source.resolve() for source in files}
    targets = []
    for source in files:
        name = f"{source.stem}.{fmt}"
        count = 1
        while name in seen or (outdir / name).resolve() in inputs:
            count += 1
            name = f"{source.stem}-{count}.{fmt}"
        seen.add(name)
        targets.append(outdir / name)
    return targets


def _blend(text: str) -> dict[str, float]:
    from revoice.errors import InvalidOption

    try:
        pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
        return {name.strip(): float(weight) for name, weight in pairs}
    except ValueError:
        raise InvalidOption(
            "--blend takes style=weight pairs, e.g. jf_alpha=0.6,jm_kumo=0.4", "blend"
        ) from None


def _voice_action(args: argparse.Namespace, settings: Settings) -> int:
    from revoice.errors import VoiceExists
    from revoice.pipeline import Pipeline
    from revoice.voices import preview_text
    from revoice.workshop import Workshop

    pipeline = Pipeline(settings)
    workshop = Workshop(pipeline)
    if args.action == "remove":
        workshop.remove_voice(args.id)
        print(f"removed {args.id} from {settings.voices}")
        return 0
    if args.action == "preview":
        voice = pipeline.voice(args.id)
        fmt = _check_output(args.output, args.format)
        chunks = pipeline.speak(args.text or preview_text(voice), voice)
        _say_written(args.output, fmt, _write_stream(chunks, args.output, fmt), voice.id)
        return 0
    exists = VoiceExists(f"you already have a voice {args.id!r}; add --force to replace it")
    if not args.force and any(v.id == args.id and v.source == "user" for v in pipeline.catalogue):
        raise exists  # before the slow "sound like me"
    if args.like_me:
        recording = _decode(args.like_me)
        print(
            "comparing your voice with the shipped voices (a minute the first time: each is "
            "made once, then kept in the cache)...",
            file=sys.stderr,
            flush=True,
        )
        likeness, _ = workshop.like_me(recording, None)
        spec = likeness.spec()
        print(likeness.describe())
    else:
        spec = {"voice": args.parent}
    extra = {
        "pitch": args.pitch,
        "formant": args.formant,
        "volume": args.volume,
        "speed": args.speed,
        "description": args.description,
        "blend": _blend(args.blend) if args.blend else None,
    }
    spec.update({k: v for k, v in extra.items() if v is not None})
    try:
        voice = workshop.add_voice(args.id, spec, overwrite=args.force)
    except VoiceExists:
        raise exists from None
    print(f"saved {voice.id} ({voice.engine}, from {voice.parent}) in {settings.voices}")
    return 0


def _voices(args: argparse.Namespace, settings: Settings) -> int:
    from revoice.voices import Catalogue, voice_record

    if args.action:
        return _voice_action(args, settings)
    catalogue = Catalogue.load(settings.voices, settings)
    if args.json:
        print(json.dumps([voice_record(v) for v in catalogue], ensure_ascii=False, indent=2))
        return 0
    voices = list(catalogue)
    lines = [
        (v.id, v.engine, ",".join(v.languages), v.gender, str(v.sample_rate), v.description)
        for v in voices
    ]
    from rich.console import Console
    from rich.table import Table

    console = Console()
    widest = max((len(v.id) for v in voices), default=2)
    # a terminal too narrow for the table (it would cut the other columns) gets lines too
    if not sys.stdout.isatty() or console.width < widest + 50:
        _print_columns(lines)
        return 0
    # ids are what users copy: never cut, never wrapped (the description wraps instead)
    table = Table()
    table.add_column("id", no_wrap=True, min_width=widest, overflow="fold")
    for name in ("engine", "languages", "gender", "rate"):
        table.add_column(name, no_wrap=True)
    table.add_column("description", overflow="fold", ratio=1)
    for line in lines:
        table.add_row(*line)
    console.print(table)
    return 0


#: the columns of `revoice voices` when it does not print to a terminal
VOICE_COLUMNS = ("id", "engine", "languages", "gender", "rate", "description")


def _print_columns(rows: Sequence[tuple[str, ...]]) -> None:
    """Plain lines for a pipe or a file: columns padded to their widest entry, nothing cut or
    wrapped, so `revoice voices | grep kokoro | cut -d' ' -f1` gives whole ids."""
    table = [VOICE_COLUMNS, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(VOICE_COLUMNS) - 1)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from revoice.errors import InvalidOption

    updates: dict[str, object] = {
        k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None
    }
    if args.wyoming:
        from revoice.wyoming_door import check_uri

        wyoming = settings.wyoming.model_copy(update={"uri": check_uri(args.wyoming)})
        updates["wyoming"] = wyoming
    cfg = settings.model_copy(update=updates)
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise InvalidOption("give both --ssl-certfile and --ssl-keyfile for HTTPS")
    if args.address and not args.ray:
        raise InvalidOption("--address is for --ray (the Ray cluster to join)")
    if args.no_http and not cfg.wyoming.uri:
        raise InvalidOption("--no-http serves only Wyoming: give --wyoming tcp://HOST:PORT")
    if args.no_http and args.ssl_certfile:
        raise InvalidOption("--ssl-certfile and --ssl-keyfile are for HTTP, not with --no-http")
    if args.ray:
        if args.ssl_certfile:
            raise InvalidOption("--ray serves plain HTTP: put TLS in a proxy in front of it")
        if cfg.wyoming.uri or args.no_http:
            raise InvalidOption("--wyoming runs in the plain server, not with --ray")
        return _serve_ray(cfg, args.address)
    from revoice.server import check_address, serve

    if not args.no_http:
        check_address(cfg.host, cfg.port)  # before the models load, not a minute after
    serve(cfg, ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile, http=not args.no_http)
    return 0


def _serve_ray(settings: Settings, address: str | None) -> int:
    try:
        from revoice import ray_serve
    except ImportError as exc:
        from revoice.errors import EngineUnavailable

        raise EngineUnavailable(f"Ray Serve is not installed ({exc.name})", "ray") from None
    if address:
        ray = settings.ray.model_copy(update={"address": address})
        settings = settings.model_copy(update={"ray": ray})
    ray_serve.run(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
