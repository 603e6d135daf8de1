"""The conversation of a realtime session: its items, in order.

User items come from committed audio (their transcript filled in once heard) or from
`conversation.item.create` (text); assistant items are the responses. revoice conversations
hold messages only: no function calls or tools.
"""

from __future__ import annotations

from typing import Any

from revoice.realtime.protocol import invalid, new_id
from revoice.realtime.responses import Response

_ROLES = ("user", "assistant", "system")
_TEXT_PARTS = ("input_text", "text", "output_text")


def user_audio_item(item_id: str) -> dict[str, Any]:
    """A user message of committed audio, its transcript still to come."""
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio", "transcript": None}],
    }


def _words(item: dict[str, Any]) -> str:
    parts = []
    for part in item.get("content") or ():
        if isinstance(part, dict):
            words = part.get("text") if part.get("type") in _TEXT_PARTS else part.get("transcript")
            if isinstance(words, str) and words.strip():
                parts.append(words.strip())
    return " ".join(parts)


class Items:
    def __init__(self) -> None:
        self.conversation_id = new_id("conv")
        self._items: dict[str, dict[str, Any]] = {}
        self._responses: dict[str, Response] = {}
        self._order: list[str] = []

    @property
    def last(self) -> str | None:
        return self._order[-1] if self._order else None

    def add(self, item: dict[str, Any]) -> None:
        self._items[item["id"]] = item
        self._order.append(item["id"])

    def add_response(self, response: Response) -> None:
        self._responses[response.item_id] = response
        self._order.append(response.item_id)

    def _find(self, item_id: Any) -> dict[str, Any] | Response:
        if not isinstance(item_id, str) or not item_id:
            raise invalid("item_id is required", "item_id", "missing_required_parameter")
        if item_id in self._items:
            return self._items[item_id]
        if item_id in self._responses:
            return self._responses[item_id]
        raise invalid(f"no item {item_id!r} in the conversation", "item_id", "item_not_found")

    def get(self, item_id: Any) -> dict[str, Any]:
        found = self._find(item_id)
        return found.item(found.status) if isinstance(found, Response) else found

    def delete(self, item_id: Any) -> str:
        self._find(item_id)
        self._items.pop(item_id, None)
        self._responses.pop(item_id, None)
        self._order.remove(item_id)
        return str(item_id)

    def create(self, spec: Any) -> dict[str, Any]:
        """A message item from `conversation.item.create`."""
        if not isinstance(spec, dict):
            raise invalid("item must be an object", "item")
        if spec.get("type", "message") != "message":
            raise invalid("revoice conversations hold messages only", "item.type")
        role = spec.get("role")
        if role not in _ROLES:
            raise invalid(f"item.role must be one of: {', '.join(_ROLES)}", "item.role")
        content = spec.get("content")
        if not isinstance(content, list) or not all(isinstance(p, dict) for p in content):
            raise invalid("item.content must be a list of content parts", "item.content")
        item_id = spec.get("id") or new_id("item")
        if not isinstance(item_id, str) or item_id in self._items or item_id in self._responses:
            raise invalid(f"item id {item_id!r} is taken", "item.id")
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": role,
            "status": "completed",
            "content": [dict(p) for p in content],
        }
        self.add(item)
        return item

    def words_to_answer(self, given: Any) -> str | None:
        """What a response answers: the text of `response.input` items when given, else the
        latest user message (its text, or the transcript of its audio)."""
        if isinstance(given, list):
            words = " ".join(_words(i) for i in given if isinstance(i, dict)).strip()
            return words or None
        for item_id in reversed(self._order):
            item = self._items.get(item_id)
            if item is not None and item.get("role") == "user":
                return _words(item) or None
        return None

    def truncation(self, event: dict[str, Any]) -> tuple[Response, int, int]:
        """(the response, content index, audio_end_ms) a `conversation.item.truncate` names."""
        found = self._find(event.get("item_id"))
        if not isinstance(found, Response) or not found.request.audio:
            raise invalid("only an assistant message with audio can be truncated", "item_id")
        index = event.get("content_index", 0)
        if index != 0:
            raise invalid("content_index must be 0 (the item's audio)", "content_index")
        end_ms = event.get("audio_end_ms")
        if isinstance(end_ms, bool) or not isinstance(end_ms, int) or end_ms < 0:
            raise invalid("audio_end_ms must be a whole number of ms, 0 or more", "audio_end_ms")
        if end_ms > found.audio_ms:
            raise invalid(
                f"audio_end_ms {end_ms} is past the end of the item's audio ({found.audio_ms} ms)",
                "audio_end_ms",
            )
        found.truncated_ms = end_ms
        return found, index, end_ms
