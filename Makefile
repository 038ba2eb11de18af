# Two commands do everything on a fresh clone:
#   make eval   the main job: default suite, every system, --gate, scorecard in reports/
#   make test   the library's tests
# Set-up goes into .venv (or the active virtual environment) and reruns when pyproject.toml changes.
# The main job needs only the base install; the tests also need the llama.cpp extra (built from
# source once, 3-5 minutes) and the browser driver, so only `make test` pays for them.
VENV  := $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
PY    := $(VENV)/bin/python
BASE  := $(VENV)/.harness-base
FULL  := $(VENV)/.harness-test
ARGS  ?=

.PHONY: setup setup-test eval test bench
setup: $(BASE)
setup-test: $(FULL)

$(BASE): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@# The pinned CPU build first: an unpinned torch would pull several GB of CUDA packages.
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e .
	@touch $(BASE)

$(FULL): $(BASE)
	$(PY) -m pip install --quiet -e ".[llamacpp,test]"
	@touch $(FULL)

eval: $(BASE)
	$(PY) -m pytest evals --gate -rs $(ARGS)

test: $(FULL)
	$(PY) -m pytest tests $(ARGS)

bench: $(FULL)
	$(PY) benchmarks/run_all.py
