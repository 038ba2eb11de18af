# Two commands do everything on a fresh clone:
#   make eval   the main job: default suite, every system, --gate, scorecard in reports/
#   make test   the library's tests
# Set-up goes into .venv (or the active virtual environment) and reruns when pyproject.toml or
# requirements.lock changes.
# The main job needs only the base install; the tests also need the llama.cpp extra (built from
# source once, 3-5 minutes), the GPTQ runtime and the browser driver, so only `make test` pays for them.
VENV  := $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
PY    := $(VENV)/bin/python
BASE  := $(VENV)/.harness-base
FULL  := $(VENV)/.harness-test
ARGS  ?=
LOCK  := requirements.lock
LOCKENV := .cache/lock-venv
# llama.cpp is compiled for a fixed x86-64 feature set, not the build machine's (-march=native):
# the binary then does not depend on where it was built, and leaves out ggml's AMX kernels, which
# died with SIGILL beside torch's bfloat16 kernels in one process (benchmarks/backends.py).
LLAMA_FLAGS := CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
PIP   = $(LLAMA_FLAGS) $(PY) -m pip install --quiet --no-compile -c $(LOCK)
# pip byte-compiles what it installs on one core; compileall does it on every core (166 s -> 129 s
# for the base install on 2 cores). A file that does not compile (a package's py2 test data) is
# left for Python to skip, as pip would.
COMPILE = $(PY) -m compileall -q -j 0 $$($(PY) -c "import sysconfig; print(sysconfig.get_path('purelib'))") >/dev/null 2>&1 || true

.PHONY: setup setup-test eval test bench lock canary
setup: $(BASE)
setup-test: $(FULL)

# Every package at the version in requirements.lock (the tested set, transitive ones included):
# the lock is a constraints file, so each target installs only what it needs, at those versions.
$(BASE): pyproject.toml $(LOCK)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) -e .
	@$(COMPILE)
	@touch $(BASE)

$(FULL): $(BASE)
	@# pip's wheel cache ignores CMAKE_ARGS: a llama.cpp wheel built elsewhere with other flags must not be reused.
	@$(PY) -m pip cache remove 'llama_cpp_python*' >/dev/null 2>&1 || true
	$(PIP) -e ".[llamacpp,test,gptq]"
	@$(COMPILE)
	@touch $(FULL)

# Resolve the newest releases that pyproject.toml allows into a scratch venv and freeze them. Run
# `make test` afterwards: a lock lands only with the tests passing on it.
lock:
	rm -rf $(LOCKENV) && python3 -m venv $(LOCKENV)
	$(LOCKENV)/bin/pip install --quiet --no-compile torch==2.13.0
	$(LLAMA_FLAGS) $(LOCKENV)/bin/pip install --quiet --no-compile ".[llamacpp,test,gptq]"
	( echo "# make lock: every package make setup and make setup-test install, at the version tested."; \
	  echo "# Generated from pyproject.toml by pip freeze in a fresh venv; edit pyproject.toml, not this."; \
	  $(LOCKENV)/bin/pip freeze --all --exclude-editable | grep -vE '^(pip==|rag-vs-ft-harness)' ) > $(LOCK)
	rm -rf $(LOCKENV) build

# The newest releases, not the lock: tells which upgrade breaks `make test` before a user meets it.
canary: $(BASE)
	$(LLAMA_FLAGS) $(PY) benchmarks/canary.py

eval: $(BASE)
	$(PY) -m pytest evals --gate -rs $(ARGS)

test: $(FULL)
	$(PY) -m pytest tests -rs $(ARGS)

bench: $(FULL)
	$(PY) benchmarks/run_all.py
