"""The page's voice lists, its "Make your own voice" panel, its status line and its phone
layout, in a real Chromium against a real `revoice serve`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import Server, running_server
from tests.helpers import HUMAN
from tests.ui.browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

DEFAULT = "english-male-1"
TIMEOUT_MS = 120_000
#: the page's result boxes: an error must not be stamped on them
RESULTS = ("#transcript", "#spoken", "#speech", "#download")


@pytest.fixture(scope="module")
def served(
    revoice_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    """A server and its voices file (which does not exist yet)."""
    workdir = tmp_path_factory.mktemp("revoice-serve-voices")
    with running_server(revoice_home, workdir) as srv:
        yield srv, workdir / "missing" / "voices.toml"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package `chromium`; CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser: Any, served: tuple[Server, Path], tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc} {exc.stack}"))
    tab.goto(served[0].url)
    tab.locator("#voice input").wait_for(timeout=30_000)
    try:
        yield tab
    except Exception:
        tab.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print(f"screenshot: {tmp_path / 'failure.png'}")
        raise
    finally:
        context.close()
    assert not problems, problems


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _no_error_badges(page: Any, *selectors: str) -> None:
    """No status tracker of these blocks shows Gradio's red "Error" badge."""
    for selector in selectors:
        badge = page.locator(f"{selector} [data-testid='status-tracker'] .error")
        assert badge.count() == 0, f"{selector} shows an error badge"
        assert page.locator(selector).get_by_text("Error", exact=True).count() == 0, selector


def _open_panel(page: Any) -> None:
    page.locator("#voice-maker").get_by_text("Make your own voice").first.click()
    _expect()(page.locator("#maker-delete")).to_be_visible(timeout=10_000)


def _choose(page: Any, dropdown: str, option: str) -> None:
    """Open a dropdown (its focus refreshes the list), type to filter it (only the first 100
    voices are drawn) and pick the option starting `option`."""
    field = page.locator(f"{dropdown} input")
    field.click()
    field.press("Control+a")
    field.press_sequentially(option, delay=20)
    choice = page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}\b"))
    choice.first.click(timeout=30_000)


def _voice_value(page: Any) -> str:
    return str(page.locator("#voice input").input_value())


def _add_over_api(server: Server, voice_id: str) -> None:
    with httpx.Client(trust_env=False, timeout=60) as http:
        made = http.post(
            server.base_url + "/v1/audio/voices",
            json={"id": voice_id, "voice": "english-female", "pitch": 2},
        )
    assert made.status_code == 201, made.text


def test_delete_with_nothing_chosen_is_said_in_the_panel(page: Any) -> None:
    expect = _expect()
    _open_panel(page)
    page.locator("#maker-delete").click()
    expect(page.locator("#maker-status")).to_contain_text(
        "Choose one of your voices", timeout=30_000
    )
    _no_error_badges(page, "#voice", *RESULTS)
    # the main dropdown still works: it opens, keeps its value and takes another voice
    assert _voice_value(page).startswith(DEFAULT)
    _choose(page, "#voice", "english-female")
    expect(page.locator("#voice input")).to_have_value(re.compile("^english-female:"))


def test_a_voice_added_over_the_api_appears_and_its_deletion_falls_back(
    page: Any, served: tuple[Server, Path]
) -> None:
    """The page was loaded before the voice existed: opening the list shows it. Deleting the
    chosen voice puts the default back, and Speak again speaks (no "not in the list")."""
    expect = _expect()
    server, _ = served
    _add_over_api(server, "api-voice")
    _choose(page, "#voice", "api-voice")
    expect(page.locator("#voice input")).to_have_value(re.compile("^api-voice:"))

    _open_panel(page)
    _choose(page, "#maker-own", "api-voice")
    page.locator("#maker-delete").click()
    expect(page.locator("#maker-status")).to_contain_text("Deleted api-voice", timeout=30_000)
    expect(page.locator("#voice input")).to_have_value(re.compile(f"^{DEFAULT}:"))
    _no_error_badges(page, "#voice", *RESULTS)

    page.locator("#spoken textarea").fill("Back to the default voice.")
    page.locator("#speak-again").click()
    expect(page.locator("#status")).to_contain_text("Done", timeout=TIMEOUT_MS)
    assert "not in the list" not in page.locator("body").inner_text()
    expect(page.locator("#download a[href*='/gradio_api/file=']").first).to_be_attached(
        timeout=60_000
    )


def test_a_voice_saved_by_another_process_is_seen_without_restart(
    page: Any, served: tuple[Server, Path]
) -> None:
    """Another process (the CLI, an editor) writes voices.toml: the server's catalogue and the
    page's list pick it up."""
    expect = _expect()
    server, voices = served
    voices.parent.mkdir(parents=True, exist_ok=True)
    before = voices.read_text() if voices.is_file() else ""
    voices.write_text(before + '\n[voices.hand-made]\nvoice = "english-female"\npitch = -2.0\n')
    with httpx.Client(trust_env=False, timeout=60) as http:
        ids = [v["id"] for v in http.get(server.base_url + "/v1/audio/voices").json()["data"]]
    assert "hand-made" in ids
    page.reload()
    page.locator("#voice input").wait_for(timeout=30_000)
    _choose(page, "#voice", "hand-made")
    expect(page.locator("#voice input")).to_have_value(re.compile("^hand-made:"))
    # removed by hand: the server's list drops it; the page drops it when the list is opened
    # and closed (an open Gradio list cannot lose entries without a page error), falls back to
    # the default voice and says why
    voices.write_text(before)
    with httpx.Client(trust_env=False, timeout=60) as http:
        ids = [v["id"] for v in http.get(server.base_url + "/v1/audio/voices").json()["data"]]
    assert "hand-made" not in ids
    page.locator("h1").first.click()  # the list was left open: close it, then open it again
    page.locator("#voice input").click()
    page.locator("h1").first.click()
    expect(page.locator("#voice input")).to_have_value(re.compile(f"^{DEFAULT}:"))
    expect(page.get_by_text("hand-made is no longer there")).to_be_visible()
    page.locator("#voice input").click()
    expect(page.get_by_role("option", name=re.compile(r"^hand-made\b"))).to_have_count(0)
    expect(page.get_by_role("option", name=re.compile(f"^{DEFAULT}:"))).to_have_count(1)
    page.locator("h1").first.click()


def test_saving_over_a_voice_needs_replace(page: Any) -> None:
    expect = _expect()
    _open_panel(page)
    page.locator("#maker-name textarea, #maker-name input").first.fill("twice")
    page.locator("#maker-save").click()
    expect(page.locator("#maker-status")).to_contain_text("Saved twice", timeout=30_000)
    page.locator("#maker-save").click()
    expect(page.locator("#maker-status")).to_contain_text("already have", timeout=30_000)
    _no_error_badges(page, "#voice", *RESULTS)
    page.locator("#maker-replace input").check()
    page.locator("#maker-save").click()
    expect(page.locator("#maker-status")).to_contain_text("Saved twice", timeout=30_000)


def test_an_error_is_said_once_in_the_status_line(page: Any) -> None:
    expect = _expect()
    page.locator("#convert").click()
    status = page.locator("#status")
    expect(status).to_contain_text("Record something", timeout=30_000)
    _no_error_badges(page, *RESULTS)


_RECORD_STAGES = """
() => {
    window.stages = [];
    const status = document.getElementById("status");
    new MutationObserver(() => window.stages.push(status.innerText.trim()))
        .observe(status, { subtree: true, childList: true, characterData: true });
}
"""


def test_on_a_phone_the_results_come_into_view_with_their_stages(
    browser: Any, served: tuple[Server, Path], tmp_path: Path
) -> None:
    """390 px wide: the dropdown's text stops before its caret; after Convert the status line
    and the transcript are on screen; the status says each stage; translate labels the
    transcript as a translation."""
    expect = _expect()
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        page.goto(served[0].url)
        page.locator("#voice input").wait_for(timeout=30_000)
        clearance = page.evaluate(
            """() => {
                const input = document.querySelector("#voice input");
                const caret = input.parentElement.querySelector(".icon-wrap");
                const padding = parseFloat(getComputedStyle(input).paddingRight);
                return caret.getBoundingClientRect().left
                    - (input.getBoundingClientRect().right - padding);
            }"""
        )
        assert clearance >= 0, f"the dropdown's text runs {-clearance:.0f} px under its caret"
        page.locator("#recording button[aria-label='Upload file']").click()
        page.locator("#recording input[type='file']").set_input_files(
            str(HUMAN / "librivox-0880.wav")
        )
        expect(page.locator("#recording audio, #recording a[href*='file=']").first).to_be_attached(
            timeout=30_000
        )
        page.locator("#step").get_by_text("say it in English").click()
        assert not _in_view(page, "#status"), "the results were on screen before: no test"
        page.evaluate(_RECORD_STAGES)
        page.locator("#convert").click()
        expect(page.locator("#status")).to_contain_text("Done", timeout=TIMEOUT_MS)
        expect(page.locator("#transcript textarea")).to_have_value(
            re.compile("young man|disposed", re.IGNORECASE)
        )
        assert _in_view(page, "#status", 0.25), "the status line is not at the top"
        assert _in_view(page, "#transcript")
        expect(page.locator("#transcript")).to_contain_text("translated to English")
        stages = " | ".join(page.evaluate("() => window.stages"))
        for stage in ("Transcribing", "Speaking", "Done"):
            assert stage in stages, f"no {stage!r} in the stages: {stages}"
    except Exception:
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        print(f"screenshot: {tmp_path / 'phone.png'}")
        raise
    finally:
        context.close()


def _in_view(page: Any, selector: str, within: float = 1.0) -> bool:
    """Whether the block's top is on screen, in the top `within` of it."""
    return bool(
        page.evaluate(
            """([selector, within]) => {
                const box = document.querySelector(selector).getBoundingClientRect();
                return box.top >= 0 && box.top < within * window.innerHeight;
            }""",
            [selector, within],
        )
    )
