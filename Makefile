# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test lint bench lock clean image

install: $(VENV)/.installed

# torch first and alone: pinned to the CPU build available on local disk, so no
# later resolver step reaches for a multi-gigabyte CUDA build.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

demo: install
	$(BIN)/wirewatch demo

# chromium and postgresql for the tests, installed when missing (scripts/system-packages.sh)
test: install
	scripts/system-packages.sh test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/hadolint --no-color --failure-threshold warning Dockerfile
	$(BIN)/python -m pytest -q

# The container image (wirewatch:latest) with podman, offline from local wheels where this
# machine has them, then its smoke test: see the README's Container section.
image:
	scripts/system-packages.sh image
	scripts/image-build.sh
	scripts/image-smoke.sh

bench: install
	$(BIN)/python -m benchmarks.matching

lock: install
	$(BIN)/pip freeze --exclude-editable | grep -v '^torch==' > requirements.lock.new
	{ head -2 requirements.lock; cat requirements.lock.new; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock; rm -f requirements.lock.new

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
