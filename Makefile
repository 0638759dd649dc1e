# Melody Explorer: `make run` sets everything up and starts the explorer; `make test` runs the tests.
# Every target is idempotent: a second run re-installs nothing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
TORCH_VERSION ?= 2.13.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_RUN := libfluidsynth3
APT_TEST := chromium
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: all install system system-test run test test-slow fuzz lint bench corpus train evaluate ship trials trials-latent trials-freebits trials-fidelity pop-model clean

all: test

# Debian packages: only when something is missing, so a second run does nothing.
system:
	@missing=""; for p in $(APT_RUN); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "apt: installing$$missing"; \
	$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

system-test: system
	@missing=""; for p in $(APT_TEST); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "apt: installing$$missing"; \
	$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

# The virtual environment: torch first and pinned (an unpinned torch pulls a multi-GB CUDA build).
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==$(TORCH_VERSION)
	$(PIP) install -q -e ".[dev]"
	touch $(STAMP)

install: system $(STAMP)

run: install
	$(PY) app.py

test: system-test $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

test-slow: system-test $(STAMP)
	$(PY) -m pytest -q -m slow

# Property-based fuzzing at length: FUZZ_EXAMPLES examples per property, with hypothesis's counts.
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider tests/test_fuzz.py --hypothesis-show-statistics

lint: $(STAMP)
	$(PY) -m ruff check .

bench: install
	$(PY) -m bench

corpus: install
	$(PY) -m vae corpus build

train: install
	$(PY) -m vae train --preset default

evaluate: install
	$(PY) -m vae evaluate

# After training: ship runs/default (best checkpoint + resume point), fit and measure its sliders, write the
# model card and the latent-space report (RUN=runs/other to ship another run).
RUN ?= runs/default
ship: install
	$(PY) -m vae ship --run $(RUN)
	$(PY) -m vae controls -n 200
	$(PY) -m vae card
	$(PY) -m explorer report

# Step 17: the shipped model learns pop's sung lines (POP909 401-699, beside the folk corpus; 700-909 held out)
# in 50 minutes, then ships with sliders refitted on both, and the derived windows (vae/pretrained/pop909-windows.npz,
# the explorer's built-in "Pop" collection): needs ../shared/data/pop909-dev.
POP_RUN ?= runs/pop-ft
pop-model: install
	$(PY) -m vae.pop909 .cache/collections/pop909-melody-learn --windows vae/pretrained/pop909-windows.npz
	$(PY) -m vae finetune --midi .cache/collections/pop909-melody-learn --minutes 50 --adapt all --out $(POP_RUN) --threads 2
	$(PY) -m vae ship --run $(POP_RUN) --which last
	cp $(POP_RUN)/last/controls.json vae/pretrained/default/
	$(PY) -m vae card
	$(PY) -m bench.slider_uploads --policies "fade over 1"

# Side-by-side regulariser trials, round 2 (warm start from the resume point, 14 minutes each): bench/trials.md
trials: install
	$(PY) -m bench.model_trials --minutes 14 --only ioi-w0.05 ioi-w0.1 ioi-w0.05-ant --n 40 --modes response

# Round 3 (from scratch, same minutes and seed): latent size 16/32/64: bench/trials-latent.md
trials-latent: install
	$(PY) -m bench.model_trials --minutes 12 --only z16 z32 z64 --n 40 --modes response --table trials-latent

# Round 4 (from scratch, same minutes and seed): free bits 32/64/128 nats at z64: bench/trials-freebits.md
trials-freebits: install
	$(PY) -m bench.model_trials --minutes 12 --out runs/trials-fb --only z64-fb32 z64 z64-fb128 --n 40 --modes response --table trials-freebits

# Round 5 (step 12, warm start, 20 minutes each): syncopation augmentation, KL weight 0.1: bench/trials-r5.md
trials-fidelity: install
	$(PY) -m bench.model_trials --minutes 20 --out runs/trials-r5 --only r5-w0.05 r5-sync r5-sync-b0.1 --n 40 --modes response --table trials-r5

clean:
	rm -rf .cache
