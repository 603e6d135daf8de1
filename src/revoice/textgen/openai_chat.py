"""Text generation by any OpenAI-compatible chat server (llama.cpp server, Ollama, vLLM, ...).

Standard library only: one POST to `{base_url}/chat/completions` per call, so the base install
can use a model served elsewhere.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from revoice.config import Settings
from revoice.errors import EngineUnavailable
from revoice.textgen.base import chat_messages, clean_reply, mode


class OpenAIChatGenerator:
    """Replies and rewrites by a chat server at `text.base_url`."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def url(self) -> str:
        base = (self._settings.text.base_url or "").strip().rstrip("/")
        return f"{base}/chat/completions"

    def load(self) -> None:
        base = self._settings.text.base_url
        if not base or urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise EngineUnavailable(
                "the openai-chat text engine needs the server's base URL: set "
                "REVOICE_TEXT__BASE_URL (e.g. http://127.0.0.1:8080/v1)"
            )

    def generate(self, prompt: str, *, instruction: str | None = None) -> str:
        prompt = prompt.strip()
        if not prompt:
            return ""
        self.load()
        cfg = self._settings.text
        body = {
            "model": cfg.model or "default",
            "messages": chat_messages(prompt, instruction),
            "max_tokens": cfg.max_new_tokens,
            "temperature": cfg.temperature,
            "stream": False,
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if cfg.api_key is not None:
            headers["Authorization"] = f"Bearer {cfg.api_key.get_secret_value()}"
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=cfg.timeout) as response:
                data: Any = json.load(response)
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace").strip()
            raise EngineUnavailable(
                f"the chat server at {self.url} answered {exc.code}: {detail}"
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EngineUnavailable(
                f"cannot reach the chat server at {self.url}: {reason}"
            ) from None
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise EngineUnavailable(
                f"the chat server at {self.url} sent no choices[0].message.content"
            ) from None
        return clean_reply(str(content or ""), instruction=mode(instruction) == "instruction")
