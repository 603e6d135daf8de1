"""The web page end to end: a real `revoice serve`, driven by gradio_client and by Chromium."""

from __future__ import annotations

import re
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file

from revoice import codecs
from revoice.audio import Audio
from tests.helpers import HUMAN, normalize
from tests.ui.browser import ARGS, CHROMIUM
from tests.ui.conftest import Server

CONVERT_TIMEOUT = 120.0
RECORD_SECONDS = 4.5


def _client(server: Server, downloads: Path) -> Client:
    """The client as docs/clients.md builds it: one TLS context for all its requests."""
    return Client(
        server.url,
        verbose=False,
        ssl_verify=ssl.create_default_context(),  # type: ignore[arg-type]  # httpx's verify
        download_files=str(downloads),
        analytics_enabled=False,
        httpx_kwargs={"trust_env": False},
    )


def _convert(client: Client, clip: Path, voice: str) -> tuple[str, Path]:
    """One /convert call: (transcript, path of the full speech file)."""
    result = client.predict(
        handle_file(str(clip)), voice, "auto", "transcribe", 1.0, "", api_name="/convert"
    )
    transcript, _stream, full, spoken = result
    assert spoken == transcript  # no text step: the words said are the words spoken
    assert isinstance(transcript, str), f"transcript is not text: {result!r}"
    assert full, f"no full audio file came back: {result!r}"
    return transcript, Path(full)


def _assert_speech(audio: Audio, what: str, min_seconds: float = 1.0) -> None:
    assert audio.duration > min_seconds, f"{what}: only {audio.duration:.2f} s of audio"
    assert audio.rms() > 0.01, f"{what}: silent (rms {audio.rms():.4f})"


def test_convert_via_gradio_client(server: Server, tmp_path: Path) -> None:
    client = _client(server, tmp_path)
    transcript, full = _convert(client, HUMAN / "librivox-0880.wav", "english-female")
    words = normalize(transcript)
    for expected in ("ill", "disposed", "young man"):
        assert re.search(rf"\b{expected}\b", words), f"{expected!r} not in {transcript!r}"
    _assert_speech(codecs.decode(full), f"full audio {full}")


def test_speak_again_says_the_words_in_the_other_voice(server: Server, tmp_path: Path) -> None:
    """docs/clients.md's recipe: convert, then /speak the words in another voice; what /speak
    returns says those words (heard back through /convert)."""
    client = _client(server, tmp_path)
    transcript, _full = _convert(client, HUMAN / "librivox-0880.wav", "english-male-1")
    heard, again, full, said = client.predict(transcript, "english-female", 1.0, api_name="/speak")
    assert heard is None and said == transcript, (heard, said)
    speech = codecs.decode(again)
    assert speech.sample_rate == 24000, speech.sample_rate  # Kokoro, not the first call's Piper
    _assert_speech(speech, f"/speak's audio {again}")
    assert codecs.decode(full).duration == pytest.approx(speech.duration, abs=0.05)
    back, _ = _convert(client, Path(again), "english-male-1")
    words = normalize(back)
    for expected in ("disposed", "young man"):
        assert re.search(rf"\b{expected}\b", words), f"{expected!r} not in {back!r}"


def test_simultaneous_conversions_do_not_cross(server: Server, tmp_path: Path) -> None:
    """Two users at once: each gets the transcript and the voice of their own request."""
    jobs = {
        "librivox": (HUMAN / "librivox-0880.wav", "english-male-1"),  # Piper, 22050 Hz
        "cards": (HUMAN / "cards-001.wav", "english-female"),  # Kokoro, 24000 Hz
    }
    start = threading.Barrier(len(jobs))

    def run(name: str) -> tuple[str, Path, float, float]:
        clip, voice = jobs[name]
        client = _client(server, tmp_path / name)  # its own session
        start.wait(timeout=60)
        began = time.monotonic()
        transcript, full = _convert(client, clip, voice)
        return transcript, full, began, time.monotonic()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(run, name) for name in jobs}
        results = {name: f.result(timeout=2 * CONVERT_TIMEOUT) for name, f in futures.items()}

    (lib_text, lib_full, lib_start, lib_end) = results["librivox"]
    (card_text, card_full, card_start, card_end) = results["cards"]
    assert max(lib_start, card_start) < min(lib_end, card_end), "the calls did not overlap"

    lib_words, card_words = normalize(lib_text), normalize(card_text)
    assert "young man" in lib_words and "disposed" in lib_words, lib_text
    assert not {"ten", "of"} & set(lib_words.split()), f"the other request leaked in: {lib_text!r}"
    # "ten of clubs": Whisper base hears "10 of cloves" in this clip, with or without load
    assert re.search(r"\bten of cl", card_words), card_text
    assert not {"young", "man", "disposed"} & set(card_words.split()), (
        f"the other request leaked in: {card_text!r}"
    )

    assert lib_full != card_full, "both requests got the same audio file"
    lib_audio, card_audio = codecs.decode(lib_full), codecs.decode(card_full)
    _assert_speech(lib_audio, "librivox speech")
    _assert_speech(card_audio, "cards speech", min_seconds=0.4)
    # each answer is spoken by the voice its own request chose
    assert lib_audio.sample_rate == 22050, lib_audio.sample_rate
    assert card_audio.sample_rate == 24000, card_audio.sample_rate
    assert card_audio.duration < lib_audio.duration, (card_audio.duration, lib_audio.duration)


@pytest.fixture()
def microphone_wav(tmp_path: Path) -> Path:
    """librivox-0880 as 48 kHz 16-bit mono with 0.5 s of silence around it (Chromium's mic)."""
    speech = codecs.decode(HUMAN / "librivox-0880.wav").resample(48000)
    silence = Audio.silence(0.5, 48000)
    return codecs.write(Audio.concat([silence, speech, silence]), tmp_path / "microphone.wav")


_MEDIA_DURATION = """
async (url) => {
    const audio = new Audio();
    audio.preload = "metadata";
    const result = new Promise((resolve, reject) => {
        audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
        audio.addEventListener("error", () => reject(new Error(
            "cannot load " + url + ": " + (audio.error && audio.error.message))));
        setTimeout(() => reject(new Error("no metadata for " + url)), 30000);
    });
    audio.src = url;
    return await result;
}
"""


@pytest.mark.browser
def test_record_and_convert_in_chromium(
    server: Server, microphone_wav: Path, tmp_path: Path
) -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package `chromium`; CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")

    args = [
        *ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone_wav}",
    ]
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=args
        )
        try:
            context = browser.new_context(permissions=["microphone"])
            page = context.new_page()
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on(
                "console",
                lambda msg: (
                    problems.append(f"console {msg.type}: {msg.text}")
                    if msg.type == "error"
                    else None
                ),
            )
            try:
                _record_and_convert(sync_api, page, server, tmp_path)
            except Exception:
                page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
                print(f"screenshot: {tmp_path / 'failure.png'}")
                print("browser problems:", *problems, sep="\n  ")
                raise
        finally:
            browser.close()
    assert not [p for p in problems if p.startswith("page error")], problems


def _absolute(page: Any, href: str | None) -> str:
    assert href, "the link has no address"
    return str(page.evaluate("(href) => new URL(href, document.baseURI).href", href))


def _record_and_convert(sync_api: Any, page: Any, server: Server, tmp_path: Path) -> None:
    expect = sync_api.expect
    page.goto(server.url)
    recording = page.locator("#recording")
    record = recording.get_by_role("button", name="Record", exact=True)
    expect(record).to_be_visible(timeout=30_000)

    # record from the fake microphone (it plays microphone.wav, looped)
    record.click()
    stop = recording.get_by_role("button", name="Stop", exact=True).filter(visible=True)
    expect(stop).to_be_visible(timeout=10_000)
    page.wait_for_timeout(RECORD_SECONDS * 1000)
    with page.expect_response(
        lambda r: "/gradio_api/upload" in r.url and r.request.method == "POST", timeout=30_000
    ) as upload:
        stop.click()
    assert upload.value.ok, f"uploading the recording failed: HTTP {upload.value.status}"
    recorded = recording.locator("a[href*='/gradio_api/file=']").first
    expect(recorded).to_be_attached(timeout=30_000)
    mic = page.request.get(_absolute(page, recorded.get_attribute("href")))
    assert mic.ok, f"fetching the recording: HTTP {mic.status}"
    heard = codecs.decode(mic.body())
    assert 3.0 < heard.duration < 10.0, f"the recording lasts {heard.duration:.2f} s"
    assert heard.rms() > 0.01, f"the recording is silent (rms {heard.rms():.4f})"

    page.locator("#convert").click()
    transcript = page.locator("#transcript textarea")
    expect(transcript).to_have_value(
        re.compile(r"young man|disposed", re.IGNORECASE), timeout=CONVERT_TIMEOUT * 1000
    )

    # the whole recording, for download: a file link the browser can play and we can decode
    link = page.locator("#download a[href*='/gradio_api/file=']").first
    expect(link).to_be_attached(timeout=60_000)
    url = _absolute(page, link.get_attribute("href"))
    duration = page.evaluate(_MEDIA_DURATION, url)
    assert duration > 1.0, f"the browser sees {duration} s of audio at {url}"
    response = page.request.get(url)
    assert response.ok, f"GET {url}: HTTP {response.status}"
    _assert_speech(codecs.decode(response.body()), f"downloaded {url}")

    # the streamed answer: the autoplaying player gets a source holding the speech
    page.wait_for_function(
        """() => {
            const a = document.querySelector('#speech audio');
            return a && a.src && Number.isFinite(a.duration) && a.duration > 1;
        }""",
        timeout=60_000,
    )


@pytest.mark.browser
def test_api_docs_render_offline_in_chromium(server: Server) -> None:
    """`/docs` (Swagger UI) and `/redoc` load their scripts from revoice itself: a browser
    that can reach nothing else still shows the API's routes."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package `chromium`; CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    elsewhere: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            page = browser.new_page()

            def only_here(route: object) -> None:  # every other host is unreachable
                url = route.request.url  # type: ignore[attr-defined]
                if url.startswith(server.base_url):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    kind = route.request.resource_type  # type: ignore[attr-defined]
                    elsewhere.append(f"{kind} {url}")
                    route.abort()  # type: ignore[attr-defined]

            page.route("**/*", only_here)
            page.goto(server.base_url + "/docs")
            page.get_by_text("/v1/audio/speech", exact=True).first.wait_for(timeout=30_000)
            page.goto(server.base_url + "/redoc")
            page.get_by_text("/v1/audio/transcriptions").first.wait_for(timeout=30_000)
        finally:
            browser.close()
    # what a page needs comes from revoice; ReDoc only asks cdn.redoc.ly for its logo image
    assert all(u.startswith("image ") for u in elsewhere), elsewhere
