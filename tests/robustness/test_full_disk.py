"""A full disk is the server's problem, said plainly: 507 with a message, and nothing lost.

Reproductions: a full temp dir gave 400 "error parsing the body" on the API and a 500 on the
page, and left 5 MiB of partial upload behind; `voices.toml` on a full disk gave 500. Here a
real `revoice serve` has its temp dir, Gradio's cache and the voices file on a small tmpfs,
which the test fills.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from tests.api.helpers import Server, running_server
from tests.helpers import HUMAN

CLIP = (HUMAN / "librivox-0880.wav").read_bytes()
COMMENTED = '# my voices, by hand\n[voices.mine]\nvoice = "english-female"  # hers\npitch = 2\n'


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    where = tmp_path_factory.mktemp("small-disk")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)]).returncode:
        pytest.skip("this sandbox does not allow mounting a tmpfs")
    try:
        for sub in ("tmp", "gradio", "voices"):
            (where / sub).mkdir()
        (where / "voices" / "voices.toml").write_text(COMMENTED)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture(scope="module")
def server(
    disk: Path, revoice_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = {
        "TMPDIR": str(disk / "tmp"),
        "GRADIO_TEMP_DIR": str(disk / "gradio"),
        "REVOICE_VOICES": str(disk / "voices" / "voices.toml"),
    }
    with running_server(revoice_home, tmp_path_factory.mktemp("full-disk"), extra_env=env) as srv:
        yield srv


@pytest.fixture
def full(disk: Path) -> Iterator[None]:
    """Fill the disk to the last byte (a filler file written until ENOSPC), then empty it."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(fd)
    try:
        yield
    finally:
        filler.unlink()


def _files(where: Path) -> set[str]:
    return {str(p.relative_to(where)) for p in where.rglob("*") if p.is_file()}


def test_an_upload_the_disk_cannot_hold_is_a_507_and_leaves_nothing(
    server: Server, disk: Path, full: None
) -> None:
    before = _files(disk / "tmp"), _files(disk / "gradio")
    with httpx.Client(trust_env=False, timeout=60) as http:
        for path in ("/v1/audio/transcriptions", "/v1/audio/voice-to-voice"):
            answer = http.post(server.base_url + path, files={"file": ("a.wav", CLIP)})
            assert answer.status_code == 507, answer.text
            error = answer.json()["error"]
            assert error["code"] == "insufficient_storage" and "no room" in error["message"]
        page = http.post(server.base_url + "/gradio_api/upload", files={"files": ("a.wav", CLIP)})
        assert page.status_code == 507, page.text
        assert "no room" in page.json()["error"]["message"]
    assert (_files(disk / "tmp"), _files(disk / "gradio")) == before
    assert "Traceback" not in server.output()


def test_the_same_upload_works_once_there_is_room(server: Server) -> None:
    with httpx.Client(trust_env=False, timeout=120) as http:
        answer = http.post(
            server.base_url + "/v1/audio/transcriptions", files={"file": ("a.wav", CLIP)}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"].strip()


def test_saving_a_voice_on_a_full_disk_is_a_507_and_keeps_the_file(
    server: Server, disk: Path, full: None
) -> None:
    voices = disk / "voices"
    before = _files(voices)
    with httpx.Client(trust_env=False, timeout=60) as http:
        answer = http.post(
            server.base_url + "/v1/audio/voices",
            json={"id": "another", "voice": "english-male-1", "pitch": -2},
        )
        assert answer.status_code == 507, answer.text
        assert "voices.toml was not saved" in answer.json()["error"]["message"]
        listing = http.get(server.base_url + "/v1/audio/voices").json()["data"]
    assert (voices / "voices.toml").read_text() == COMMENTED  # comments and all
    assert _files(voices) - {".voices.toml.lock"} == before  # no temp file left (the lock stays)
    ids = {v["id"] for v in listing}
    assert "mine" in ids and "another" not in ids


def test_the_page_says_the_disk_is_full_before_it_speaks(
    server: Server, disk: Path, full: None
) -> None:
    page = Client(server.url, verbose=False)
    with pytest.raises(Exception, match="no room") as refused:
        page.predict("Hello there.", "english-male-1", 1.0, api_name="/speak")
    assert "Traceback" not in str(refused.value)
