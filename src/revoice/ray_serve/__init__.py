"""revoice on Ray Serve: the same FastAPI app, with each engine a deployment of its own.

`revoice serve --ray` (or `serve run revoice.ray_serve:app_builder`) deploys:

- `asr`: the speech-recognition engine (`asr.engine`), its default model loaded per replica;
- `tts-<engine>`: one per TTS engine the voice catalogue uses (piper, kokoro, festival, ...);
- `text`: the text step's generator, loaded on its first request;
- `ingress`: the app of `revoice serve` (API at /v1, page at /), unchanged, over a pipeline
  whose engines are handles to the deployments above.

Each scales on its own (replicas, autoscaling, CPUs/GPUs per replica: `Settings.ray`). The
pipeline, limits, errors and streaming are the single-machine code; only where an engine runs
changes. A replica that dies before answering is retried on another one, so a request is lost
only when its replica dies after it started streaming.

The package: `proxies` (the engines the ingress sees), `deployments` (the engine deployments
and the ingress), `app` (the application built from the settings, and `revoice serve --ray`).
"""

from __future__ import annotations

from revoice.ray_serve.app import app_builder, build, run, start, tts_engines
from revoice.ray_serve.proxies import remote_builder

__all__ = ["app_builder", "build", "remote_builder", "run", "start", "tts_engines"]
