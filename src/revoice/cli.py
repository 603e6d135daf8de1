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

from revoice import __version__
from revoice.audio import Audio
from revoice.config import Settings
from revoice.errors import OutputError, RevoiceError

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
        help="output file; its suffix picks the format (wav, flac, mp3, ogg)",
    )
    p.add_argument("--speed", type=float, help="0.25 to 4.0 (1.0 = the voice's own pace)")

    p = sub.add_parser("convert", help="voice to voice: re-speak recordings in another voice")
    p.add_argument("inputs", nargs="+", type=Path, metavar="FILE_OR_DIR")
    p.add_argument("--voice", "-v", help="voice id (see `revoice voices`)")
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        required=True,
        help="output file for one input, or a directory for several",
    )
    p.add_argument(
        "--format",
        "-F",
        default="wav",
        choices=("wav", "flac", "mp3", "ogg"),
        help="format of files written into an output directory",
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
    p.add_argument("--speed", type=float, help="0.25 to 4.0")
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
    a.add_argument("--pitch", type=float, help="semitones, -12..12")
    a.add_argument("--formant", type=float, help="vocal tract ratio 0.7..1.4 (<1 deeper)")
    a.add_argument("--volume", type=float, help="dB, -30..12")
    a.add_argument("--speed", type=float, help="0.25..4")
    a.add_argument("--blend", help="Kokoro styles, e.g. jf_alpha=0.6,jm_kumo=0.4")
    a.add_argument("--description", help="one line shown in the catalogue")
    a.add_argument("--force", action="store_true", help="replace your voice of that id")
    r = vs.add_parser("remove", help="delete a custom voice")
    r.add_argument("id")
    pv = vs.add_parser("preview", help="hear a voice: write a short sample")
    pv.add_argument("id")
    pv.add_argument("--output", "-o", type=Path, required=True)
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


def _transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from revoice import codecs
    from revoice.pipeline import Pipeline
    from revoice.transcripts import render
    from revoice.types import TranscribeOptions

    pipeline = Pipeline(settings)
    options = TranscribeOptions(language=args.language, task=args.task)
    outputs = []
    for path in args.files:
        transcript = pipeline.transcribe(codecs.decode(path), options, args.model)
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
        try:
            raw = sys.stdin.buffer.read() if str(args.file) == "-" else args.file.read_bytes()
        except OSError as exc:
            raise InvalidOption(f"cannot read {args.file}: {exc.strerror or exc}") from None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidOption(f"{args.file} is not UTF-8 text") from None
    if not args.text:
        raise InvalidOption("nothing to say: give the text or --file FILE", "text")
    return str(args.text)


def _check_output(path: Path) -> None:
    from revoice.codecs import format_for_path

    format_for_path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {path}: directory {parent} is not writable")


def _speak(args: argparse.Namespace, settings: Settings) -> int:
    from revoice.errors import InvalidOption
    from revoice.pipeline import Pipeline
    from revoice.types import SynthesisOptions

    text = _read_text(args)
    if not any(ch.isalnum() for ch in text):
        raise InvalidOption("the text has nothing to say (no letters or digits)", "text")
    _check_output(args.output)
    pipeline = Pipeline(settings)
    chunks = pipeline.speak(text, args.voice, SynthesisOptions(speed=args.speed))
    _write_stream(chunks, args.output)
    return 0


def _write_stream(chunks: Iterator[Audio], path: Path) -> None:
    """Encode chunks into `path` as they come (a temp name, renamed when complete)."""
    from revoice import codecs

    fmt = codecs.format_for_path(path)
    encoder = None
    tmp = path.with_name(f".{path.name}.part")
    try:
        with tmp.open("wb") as out:
            for chunk in chunks:
                if encoder is None:
                    encoder = codecs.StreamEncoder(fmt, chunk.sample_rate)
                out.write(encoder.push(chunk))
            if encoder is None:
                from revoice.errors import InvalidOption

                raise InvalidOption("there was nothing to say")
            out.write(encoder.close())
        tmp.replace(path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):  # e.g. a read-only file system: nothing was written
            tmp.unlink(missing_ok=True)


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
            raise InvalidOption(f"no such file or directory: {item}")
    return files


def _convert(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import Progress

    from revoice import codecs
    from revoice.errors import InvalidOption
    from revoice.pipeline import Pipeline

    files = _collect_inputs(args.inputs)
    single = len(files) == 1 and args.output.suffix.lower() in codecs.SUFFIXES
    if single:
        _check_output(args.output)
        if args.output.exists() and args.output.resolve() == files[0].resolve():
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
        targets = _unique_targets(files, args.output, args.format)
    pipeline = Pipeline(settings)
    voice = pipeline.voice(args.voice)  # an unknown voice fails before any work
    failures = 0
    with Progress(transient=True, disable=single or not sys.stderr.isatty()) as progress:
        task = progress.add_task("converting", total=len(files))
        for source, target in zip(files, targets, strict=True):
            progress.update(task, description=source.name)
            try:
                conversion = pipeline.convert(
                    codecs.decode(source),
                    voice,
                    language=args.language,
                    task=args.task,
                    speed=args.speed,
                    model=args.model,
                    mode="reply" if args.reply else "none",
                    instruction=args.instruction,
                )
                if not conversion.transcript.text:
                    raise InvalidOption(f"no speech found in {source}")
                _write_stream(conversion.speech, target)
                said = conversion.transcript.text
                line = f"{source} -> {target}: {said}"
                if conversion.text != said:
                    line += f"\n  spoken: {conversion.text}"
                print(line)
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
    from revoice import codecs
    from revoice.pipeline import Pipeline
    from revoice.voices import preview_text

    pipeline = Pipeline(settings)
    if args.action == "remove":
        pipeline.remove_voice(args.id)
        print(f"removed {args.id} from {settings.voices}")
        return 0
    if args.action == "preview":
        voice = pipeline.voice(args.id)
        _check_output(args.output)
        _write_stream(pipeline.speak(args.text or preview_text(voice), voice), args.output)
        return 0
    if args.like_me:
        likeness, _ = pipeline.like_me(codecs.decode(args.like_me), None)
        spec: dict[str, object] = {"voice": likeness.voice, "pitch": likeness.pitch}
        print(
            f"nearest voice: {likeness.voice} (similarity {likeness.similarity:.2f}); "
            f"your pitch {likeness.user_f0:.0f} Hz, shift {likeness.pitch:+.1f} semitones"
        )
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
    voice = pipeline.add_voice(args.id, spec, overwrite=args.force)
    print(f"saved {voice.id} ({voice.engine}, from {voice.parent}) in {settings.voices}")
    return 0


def _voices(args: argparse.Namespace, settings: Settings) -> int:
    from revoice.voices import Catalogue

    if args.action:
        return _voice_action(args, settings)
    catalogue = Catalogue.load(settings.voices, settings)
    if args.json:
        rows = [
            {
                "id": v.id,
                "engine": v.engine,
                "languages": list(v.languages),
                "gender": v.gender,
                "sample_rate": v.sample_rate,
                "description": v.description,
                "source": v.source,
            }
            for v in catalogue
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "engine", "languages", "gender", "rate", "description")
    for v in catalogue:
        table.add_row(
            v.id, v.engine, ",".join(v.languages), v.gender, str(v.sample_rate), v.description
        )
    Console().print(table)
    return 0


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
    from revoice.server import serve

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
