"""The server answers only to names it knows (DNS rebinding), and the page only to itself.

A DNS-rebinding page points a name it owns at 127.0.0.1, so the browser sends that name as
`Host`; a page on another localhost port gets CORS from Gradio. Both are refused by the Guard
before any door runs: the OpenAI API, the realtime WebSocket, the page and its API.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from revoice.api.hosts import AllowedHosts, hostname
from revoice.config import Settings
from revoice.pipeline import Pipeline
from tests.api.helpers import app_with


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:7860", "localhost:7860", "[::1]:7860", "10.1.2.3", "app.localhost:80", ""],
)
def test_local_names_and_addresses_are_allowed(host: str) -> None:
    assert AllowedHosts([], "127.0.0.1").allows(host)


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:7860", "127.0.0.1.nip.io", "localhost.evil.example"]
)
def test_other_names_are_refused(host: str) -> None:
    assert not AllowedHosts([], "127.0.0.1").allows(host)


def test_configured_names_suffixes_and_star() -> None:
    hosts = AllowedHosts(["revoice.example.org", ".home.arpa"], "0.0.0.0")
    assert hosts.allows("revoice.example.org:443") and hosts.allows("REVOICE.example.org")
    assert hosts.allows("pi.home.arpa") and hosts.allows("home.arpa")
    assert not hosts.allows("example.org") and not hosts.allows("xhome.arpa")
    assert AllowedHosts(["*"], "127.0.0.1").allows("anything.example")
    assert AllowedHosts([], "voice.lan").allows("voice.lan:7860")  # the name it listens on
    assert hostname("[FE80::1]:99") == "fe80::1" and hostname("Example.COM.") == "example.com"


def _client(app: FastAPI, host: str) -> TestClient:
    return TestClient(app, base_url=f"http://{host}")


def test_a_rebound_name_reaches_no_door(api_app: FastAPI) -> None:
    with _client(api_app, "rebind.example:7860") as http:
        for method, path in [
            ("GET", "/"),
            ("GET", "/v1/models"),
            ("POST", "/v1/audio/speech"),
            ("POST", "/gradio_api/call/speak"),
            ("GET", "/health"),
        ]:
            answer = http.request(method, path, json={"input": "hi", "voice": "alloy"})
            assert answer.status_code == 421, path
            error = answer.json()["error"]
            assert error["code"] == "host_not_allowed"
            assert (
                "rebind.example" in error["message"] and "REVOICE_ALLOWED_HOSTS" in error["message"]
            )
        with pytest.raises(WebSocketDisconnect), http.websocket_connect("/v1/realtime"):
            pass
    with _client(api_app, "127.0.0.1:7860") as http:
        assert http.get("/v1/models").status_code == 200


def test_allowed_hosts_setting(settings: Settings, pipeline: Pipeline) -> None:
    app = app_with(settings, pipeline, allowed_hosts=["revoice.example.org"])
    with _client(app, "revoice.example.org") as http:
        assert http.get("/v1/models").status_code == 200
    with _client(app, "other.example.org") as http:
        assert http.get("/v1/models").status_code == 421


def test_the_page_answers_only_its_own_origin(api_app: FastAPI) -> None:
    with _client(api_app, "127.0.0.1:7860") as http:
        own = http.get("/gradio_api/info", headers={"origin": "http://127.0.0.1:7860"})
        assert own.status_code == 200 and "named_endpoints" in own.json()
        for origin in ("http://localhost:3000", "http://127.0.0.1:1", "https://evil.example"):
            # a simple cross-origin request, and the preflight of one with custom headers
            call = http.post(
                "/gradio_api/call/speak",
                json={"data": ["Hello there.", "english-male-1", 1.0]},
                headers={"origin": origin},
            )
            assert call.status_code == 403, origin
            assert call.json()["error"]["code"] == "cross_origin"
            preflight = http.options(
                "/gradio_api/queue/join",
                headers={
                    "origin": origin,
                    "access-control-request-method": "POST",
                    "access-control-request-headers": "x-forwarded-host",
                },
            )
            assert preflight.status_code == 403, origin
            assert "access-control-allow-origin" not in preflight.headers
        # the OpenAI API is for any client, as before (it sends no CORS headers of its own)
        api = http.get("/v1/models", headers={"origin": "http://localhost:3000"})
        assert api.status_code == 200
