"""The languages revoice hears and speaks: the codes Whisper knows (one table for every door)."""

from __future__ import annotations

from revoice.errors import InvalidOption

#: Whisper's language codes (faster-whisper's and openai-whisper's tokenizers, large-v3 incl.)
WHISPER = frozenset(
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no "
    "th ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw "
    "gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl "
    "mg as tt haw ln ha ba jw su yue".split()
)
#: common three-letter spellings users type, to suggest the code
_SPELLINGS = dict(
    pair.split(":")
    for pair in "eng:en hin:hi deu:de ger:de fra:fr fre:fr spa:es jpn:ja zho:zh chi:zh rus:ru "
    "por:pt".split()
)


def check(code: str, param: str = "language") -> str:
    """`code` lower-cased when Whisper knows it; else `InvalidOption` naming what to send."""
    lang = code.strip().lower()
    if lang in WHISPER:
        return lang
    hint = f" (did you mean {_SPELLINGS[lang]!r}?)" if lang in _SPELLINGS else ""
    shown = code if len(code) <= 40 else code[:40] + "..."
    raise InvalidOption(
        f"{param} must be a language code Whisper knows, such as 'en' or 'hi', not {shown!r}{hint}",
        param,
    )
