# Two commands do everything on a fresh clone:
#   make eval   the main job: default suite, every system, --gate, scorecard in reports/
#   make test   the library's tests
# Set-up goes into .venv (or the active virtual environment) and reruns when pyproject.toml changes.
VENV  := $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.harness-installed
ARGS  ?=

.PHONY: setup eval test bench
setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@# The pinned CPU build first: an unpinned torch would pull several GB of CUDA packages.
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[llamacpp]"
	@touch $(STAMP)

eval: $(STAMP)
	$(PY) -m pytest evals --gate -rs $(ARGS)

test: $(STAMP)
	$(PY) -m pytest tests $(ARGS)

bench: $(STAMP)
	$(PY) benchmarks/run_all.py
