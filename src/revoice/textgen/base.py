"""What every text generator provides, and the prompts they share.

The text step turns what the speaker said into new text: a reply (`instruction=None`: answer
what was said) or the result of an instruction ("summarise", "make it formal") applied to it.
Backends differ only in how they run a model; the prompts live here, once.
"""

from __future__ import annotations

import re
from typing import Literal, Protocol

Mode = Literal["reply", "instruction"]

REPLY_SYSTEM = (
    "You are a friendly, helpful assistant. Reply to what the speaker said in one to three "
    "short, plain sentences, in the language they used. No lists, no markdown."
)
INSTRUCTION_SYSTEM = (
    "You rewrite text as you are told. Answer with the rewritten text only, in plain "
    "sentences: no preamble, no notes, no markdown."
)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


class TextGenerator(Protocol):
    def load(self) -> None:
        """Load the model or check the server settings (idempotent)."""

    def generate(self, prompt: str, *, instruction: str | None = None) -> str:
        """New text for `prompt` (what the speaker said): a reply, or, with `instruction`,
        the prompt rewritten as instructed. Blank input gives ''."""
        ...


def mode(instruction: str | None) -> Mode:
    return "instruction" if instruction and instruction.strip() else "reply"


def chat_messages(prompt: str, instruction: str | None) -> list[dict[str, str]]:
    """The conversation a chat model is given."""
    if mode(instruction) == "reply":
        return [
            {"role": "system", "content": REPLY_SYSTEM},
            {"role": "user", "content": prompt},
        ]
    assert instruction is not None
    return [
        {"role": "system", "content": INSTRUCTION_SYSTEM},
        {"role": "user", "content": f"{instruction.strip()}\n\nText:\n{prompt}"},
    ]


def plain_prompt(prompt: str, instruction: str | None) -> str:
    """One instruction-style prompt, for models without a chat template (flan-t5, base LMs)."""
    if mode(instruction) == "reply":
        return f"Reply to this message in a few sentences.\n\nMessage: {prompt}\n\nReply:"
    assert instruction is not None
    return f"{instruction.strip().rstrip(':')}:\n\n{prompt}"


#: what small instruction models put before the text they were asked for ("The following is
#: a rewritten version of the text:", "Sure! Here is the summary:", "Rewritten text:")
_PREAMBLE = re.compile(
    r"""^\s*(?:(?:sure|okay|ok|certainly)[,!.]?\s*)?
    (?:(?:here(?:'s|\s+is|\s+are)|the\s+following\s+is|below\s+is)\b[^\n:]{0,100}
      |[\w ]{0,30}\b(?:text|version|summary|translation)\s*)
    :\s*""",
    re.IGNORECASE | re.VERBOSE,
)
_QUOTES = (('"', '"'), ("\u201c", "\u201d"), ("'", "'"))


def clean_reply(text: str, instruction: bool = False) -> str:
    """The generated text as it should be spoken: reasoning blocks and extra spaces removed;
    for an instruction, also the model's preamble ("Here is the rewritten text:") and the
    quotes around its answer: only the text asked for is spoken."""
    text = _THINK.sub(" ", text)
    text = re.sub(r"[ \t]+", " ", text).strip()
    if instruction:
        rest = _PREAMBLE.sub("", text, count=1).strip()
        text = rest or text
        for left, right in _QUOTES:
            if len(text) > 2 and text.startswith(left) and text.endswith(right):
                text = text[1:-1].strip()
    return text
