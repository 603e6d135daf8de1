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


def clean_reply(text: str) -> str:
    """The generated text as it should be spoken: reasoning blocks and extra spaces removed."""
    text = _THINK.sub(" ", text)
    return re.sub(r"[ \t]+", " ", text).strip()
