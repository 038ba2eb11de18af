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
# pip byte-compiles what it installs on one core; compileall does it on every core (166 s -> 129 s
# for the base install on 2 cores). A file that does not compile (a package's py2 test data) is
# left for Python to skip, as pip would.
COMPILE = $(PY) -m compileall -q -j 0 $$($(PY) -c "import sysconfig; print(sysconfig.get_path('purelib'))") >/dev/null 2>&1 || true

.PHONY: setup setup-test eval test bench
setup: $(BASE)
setup-test: $(FULL)

$(BASE): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@# The pinned CPU build first: an unpinned torch would pull several GB of CUDA packages.
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet --no-compile torch==2.13.0
	$(PY) -m pip install --quiet --no-compile -e .
	@$(COMPILE)
	@touch $(BASE)

$(FULL): $(BASE)
	$(PY) -m pip install --quiet --no-compile -e ".[llamacpp,test]"
	@$(COMPILE)
	@touch $(FULL)

eval: $(BASE)
	$(PY) -m pytest evals --gate -rs $(ARGS)

test: $(FULL)
	$(PY) -m pytest tests $(ARGS)

bench: $(FULL)
	$(PY) benchmarks/run_all.py
