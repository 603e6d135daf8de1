"""The door of `/v1/realtime` on a real `revoice serve`: bad frames get `error` events and the
session goes on, the API key is enforced (header and browser subprotocol), the session cap."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import openai
import pytest
import websockets

from tests.api.helpers import Server
from tests.realtime.conftest import MAX_FRAME_BYTES, MAX_SESSIONS
from tests.realtime.helpers import KEY, SERVER_EVENT


def url(server: Server) -> str:
    return server.base_url.replace("http://", "ws://") + "/v1/realtime?model=gpt-realtime"


def connect(server: Server, key: str | None = KEY, **options: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return websockets.connect(url(server), additional_headers=headers, max_size=None, **options)


async def next_event(ws: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 20))
    SERVER_EVENT.validate_python(event)
    return event


def assert_error_event(event: dict[str, Any], code: str, param: str | None = None) -> None:
    assert event["type"] == "error", event
    error = event["error"]
    assert set(error) >= {"type", "code", "message", "param", "event_id"}
    assert error["type"] == "invalid_request_error" and error["message"], error
    assert error["code"] == code, error
    if param is not None:
        assert error["param"] == param, error


BAD_FRAMES: list[tuple[str | bytes, str, str | None]] = [
    ("this is not json", "invalid_json", None),
    ("[1, 2, 3]", "invalid_event", None),
    ('{"no": "type"}', "missing_required_parameter", "type"),
    ('{"type": "response.fly"}', "invalid_value", "type"),
    ('{"type": "input_audio_buffer.append", "audio": "%%% not base64"}', "invalid_value", "audio"),
    ('{"type": "input_audio_buffer.append", "audio": "AAAA"}', "invalid_option", "audio"),
    ('{"type": "input_audio_buffer.append"}', "invalid_option", "audio"),
    ('{"type": "input_audio_buffer.commit"}', "input_audio_buffer_commit_empty", None),
    (
        '{"type": "session.update", "session": {"audio": {"input": {"turn_detection": '
        '{"type": "server_vad", "threshold": 7}}}}}',
        "invalid_option",
        "session.audio.input.turn_detection.threshold",
    ),
    (
        '{"type": "session.update", "session": {"audio": {"output": {"voice": "nobody"}}}}',
        "unknown_voice",
        "voice",
    ),
    (
        '{"type": "session.update", "session": {"audio": {"input": {"format": '
        '{"type": "audio/pcm", "rate": 12345}}}}}',
        "invalid_option",
        "session.audio.input.format.rate",
    ),
    (
        '{"type": "conversation.item.truncate", "item_id": "nope", "audio_end_ms": 5}',
        "item_not_found",
        "item_id",
    ),
    ('{"type": "response.cancel"}', "response_cancel_not_active", None),
    ('{"type": "response.create"}', "invalid_option", None),
    (b"\x00\x01binary", "invalid_event", None),
    ("x" * (MAX_FRAME_BYTES + 1), "message_too_large", None),
]


def test_bad_frames_get_errors_and_the_session_goes_on(revoice_server: Server) -> None:
    async def main() -> list[dict[str, Any]]:
        async with connect(revoice_server) as ws:
            assert (await next_event(ws))["type"] == "session.created"
            answers = []
            for frame, _, _ in BAD_FRAMES:
                await ws.send(frame)
                answers.append(await next_event(ws))
            tagged = {"type": "input_audio_buffer.append", "audio": "@", "event_id": "mine"}
            await ws.send(json.dumps(tagged))
            answers.append(await next_event(ws))
            # still a working session: an update is applied, audio is taken
            await ws.send(json.dumps({"type": "session.update", "session": {"instructions": "hi"}}))
            answers.append(await next_event(ws))
            silence = base64.b64encode(bytes(4800)).decode()
            await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": silence}))
            await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            answers.append(await next_event(ws))
            return answers

    answers = asyncio.run(main())
    for (_frame, code, param), event in zip(BAD_FRAMES, answers, strict=False):
        assert_error_event(event, code, param)
    assert answers[len(BAD_FRAMES)]["error"]["event_id"] == "mine"
    assert answers[-2]["type"] == "session.updated"
    assert answers[-2]["session"]["instructions"] == "hi"
    assert answers[-1]["type"] == "input_audio_buffer.cleared"
    with httpx.Client(trust_env=False) as client:  # and the server is fine
        assert client.get(revoice_server.base_url + "/health").status_code == 200


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_a_missing_or_wrong_key_is_refused(revoice_server: Server, key: str | None) -> None:
    async def main() -> None:
        async with connect(revoice_server, key):
            pass

    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(main())
    # refused before the handshake, with OpenAI's error body (uvicorn sends denial responses)
    assert refused.value.response.status_code == 401
    error = json.loads(refused.value.response.body)["error"]
    assert error["code"] == ("missing_api_key" if key is None else "invalid_api_key")

    async def wrong_subprotocol() -> None:
        async with connect(revoice_server, None, subprotocols=["openai-insecure-api-key.no"]):
            pass

    with pytest.raises(websockets.InvalidStatus):
        asyncio.run(wrong_subprotocol())


def test_the_sdk_with_a_wrong_key_cannot_connect(revoice_server: Server) -> None:
    async def main() -> None:
        client = openai.AsyncOpenAI(base_url=f"{revoice_server.base_url}/v1", api_key="nope")
        async with client.realtime.connect(model="gpt-realtime") as connection:
            await connection.recv()

    with pytest.raises(websockets.InvalidStatus):
        asyncio.run(main())


def test_the_browser_subprotocol_carries_the_key(revoice_server: Server) -> None:
    async def main() -> tuple[str | None, str]:
        protocols = ["realtime", f"openai-insecure-api-key.{KEY}"]
        async with connect(revoice_server, None, subprotocols=protocols) as ws:
            return ws.subprotocol, (await next_event(ws))["type"]

    assert asyncio.run(main()) == ("realtime", "session.created")


def test_a_session_past_the_cap_is_refused_clearly(revoice_server: Server) -> None:
    async def main() -> tuple[dict[str, Any], int | None, str]:
        await asyncio.sleep(0.5)  # sessions of earlier tests are closed by now
        held = []
        for _ in range(MAX_SESSIONS):
            ws = await connect(revoice_server)
            assert (await next_event(ws))["type"] == "session.created"
            held.append(ws)
        async with connect(revoice_server) as extra:
            refusal = await next_event(extra)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(extra.recv(), 10)
            code = extra.close_code
        await held.pop().close()
        await asyncio.sleep(0.3)
        async with connect(revoice_server) as again:  # a place is free again
            kind = (await next_event(again))["type"]
        for ws in held:
            await ws.close()
        return refusal, code, kind

    refusal, code, kind = asyncio.run(main())
    assert refusal["type"] == "error"
    assert refusal["error"]["code"] == "session_limit_reached"
    assert str(MAX_SESSIONS) in refusal["error"]["message"]
    assert code == 1013
    assert kind == "session.created"
