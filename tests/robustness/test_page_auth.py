"""With REVOICE_API_KEY set, every door that does work needs the key: the page and its API too.

Reproduction from a hostile black-box run: without the key, `POST /gradio_api/call/speak`
spoke, `gradio_client`'s `/convert` converted, and `/save_voice` / `/delete_voice` changed
voices saved with the key. A real `revoice serve` with a key is driven by raw HTTP, by
`gradio_client` (with and without the key) and by Chromium (sign in, then use the page).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from tests.api.helpers import Server, running_server
from tests.helpers import HUMAN, wer
from tests.ui.browser import ARGS, CHROMIUM

KEY = "s3cret-key"


@pytest.fixture(scope="module")
def secured(revoice_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("secured")
    with running_server(revoice_home, workdir, extra_env={"REVOICE_API_KEY": KEY}) as server:
        yield server


def _http() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=30.0, follow_redirects=False)


def test_health_stays_open_and_the_page_asks_to_sign_in(secured: Server) -> None:
    with _http() as http:
        assert http.get(secured.base_url + "/health").status_code == 200
        page = http.get(secured.base_url + "/", headers={"accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=%2F"
        form = http.get(secured.base_url + page.headers["location"])
        assert form.status_code == 200 and "name=key" in form.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/gradio_api/call/speak", {"data": ["Hello there.", "english-male-1", 1.0]}),
        ("POST", "/gradio_api/call/convert", {"data": [None, "english-male-1"]}),
        ("POST", "/gradio_api/call/save_voice", {"data": ["mine", "english-male-1"]}),
        ("POST", "/gradio_api/call/delete_voice", {"data": ["mine"]}),
        ("POST", "/gradio_api/queue/join", {"data": [], "fn_index": 0, "session_hash": "x"}),
        ("GET", "/gradio_api/info", None),
        ("GET", "/config", None),
        ("POST", "/gradio_api/upload", None),
    ],
)
def test_page_api_needs_the_key(
    secured: Server, method: str, path: str, body: dict[str, object] | None
) -> None:
    with _http() as http:
        answer = http.request(method, secured.base_url + path, json=body)
        assert answer.status_code == 401, (path, answer.status_code, answer.text[:200])
        assert answer.json()["error"]["code"] == "missing_api_key"
        wrong = http.request(
            method, secured.base_url + path, json=body, headers={"authorization": "Bearer no"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "invalid_api_key"


def test_gradio_client_without_the_key_is_refused(secured: Server) -> None:
    from gradio_client.exceptions import AuthenticationError

    with pytest.raises(AuthenticationError, match="credentials were not provided"):
        Client(secured.url, verbose=False, httpx_kwargs={"trust_env": False})


def test_gradio_client_with_the_key_converts(secured: Server, tmp_path: Path) -> None:
    client = Client(
        secured.url,
        verbose=False,
        download_files=str(tmp_path),
        headers={"Authorization": f"Bearer {KEY}"},
        httpx_kwargs={"trust_env": False},
    )
    clip = HUMAN / "librivox-0880.wav"
    transcript, _stream, full, _spoken = client.predict(
        handle_file(str(clip)), "english-male-1", "auto", "transcribe", 1.0, "", api_name="/convert"
    )
    assert wer(["he was not an ill disposed young man"], [transcript]) <= 0.15
    assert Path(full).stat().st_size > 10_000


def test_the_session_cookie_works_only_from_the_page_itself(secured: Server) -> None:
    with _http() as http:
        wrong = http.post(secured.base_url + "/login", data={"key": "nope", "next": "/"})
        assert wrong.status_code == 401 and "revoice_session" not in wrong.headers.get(
            "set-cookie", ""
        )
        # `next` never leads off the server
        signed = http.post(
            secured.base_url + "/login", data={"key": KEY, "next": "//evil.example/x"}
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        session = {"revoice_session": http.cookies["revoice_session"]}
        host = secured.base_url.removeprefix("http://")
        info = http.get(secured.base_url + "/gradio_api/info", cookies=session)
        assert info.status_code == 200 and "named_endpoints" in info.json()
        same = http.get(
            secured.base_url + "/gradio_api/info",
            cookies=session,
            headers={"origin": f"http://{host}"},
        )
        assert same.status_code == 200
        for origin in ("http://evil.example", "http://127.0.0.1:1"):
            # another site's page cannot borrow the cookie: the page refuses other origins
            # outright, and the API does not count the cookie for them
            borrowed = http.get(
                secured.base_url + "/gradio_api/info", cookies=session, headers={"origin": origin}
            )
            assert borrowed.status_code == 403, origin
            borrowed = http.get(
                secured.base_url + "/v1/models", cookies=session, headers={"origin": origin}
            )
            assert borrowed.status_code == 401, origin
        # the signed-in page may call /v1 as well (same origin); nobody else may
        v1 = http.get(secured.base_url + "/v1/models", cookies=session)
        assert v1.status_code == 200
    with _http() as fresh:
        assert fresh.get(secured.base_url + "/v1/models").status_code == 401


@pytest.mark.browser
def test_sign_in_then_use_the_page_in_chromium(secured: Server) -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package `chromium`; CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
        )
        try:
            page = browser.new_page()
            page.goto(secured.url)
            assert "/login" in page.url
            page.fill("input[name=key]", "wrong")
            page.click("button[type=submit]")
            assert "not the key" in page.content()
            page.fill("input[name=key]", KEY)
            page.click("button[type=submit]")
            page.wait_for_selector("#convert", timeout=60_000)
            # the page's own API calls (voices list, speak) carry the session cookie
            page.fill("#spoken textarea", "Hello from the signed in page.")
            page.click("#speak-again")
            page.wait_for_selector("#download audio, #download a[download]", timeout=90_000)
        finally:
            browser.close()
