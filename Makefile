# Two commands for a fresh machine (Python 3.11):
#   make test   run every test: unit tests and every notebook, executed (quick profile)
#   make book   build the HTML book under _build/html (reuses make test's executed notebooks)
# Both create .venv and install requirements.txt when it is missing.
# Offline, point GANLIB_DATA at a folder holding MNIST/raw/.
PYTHON ?= python3.11
VENV ?= .venv
PROFILE ?= quick
BIN := $(VENV)/bin

.PHONY: book test smoke-full full-times venv oldest oldest-venv py312 py312-venv student colab nbgrader term-plan clean

$(BIN)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

venv: $(BIN)/.installed

# Every notebook is executed once (conftest.py): make book reuses these outputs.
test: venv
	$(BIN)/ruff check src tests benchmarks conftest.py
	GANLIB_PROFILE=quick GANLIB_STRICT_CHECKS=1 MPLBACKEND=Agg \
	  $(BIN)/python -m pytest -n 2 --dist loadfile -q --durations=25 --executed _build/executed/quick

# Outputs come from make test's run when its profile and ganlib match; the rest is executed.
book: venv
	GANLIB_PROFILE=$(PROFILE) $(BIN)/python -m ganlib.tools.bookcache --profile $(PROFILE) --executed _build/executed/$(PROFILE)
	GANLIB_PROFILE=$(PROFILE) GANLIB_STRICT_CHECKS=1 PATH="$(abspath $(BIN)):$$PATH" \
	  $(BIN)/jupyter-book build . --warningiserror --keep-going

# Every notebook in the full profile (full widths, all the data, full sample counts) with
# training capped at $(MAX_STEPS) steps: proves the full-only branches run. Expectations that
# need real training report instead of raising; exercise checks and asserts stay strict.
MAX_STEPS ?= 2
smoke-full: venv
	GANLIB_PROFILE=full GANLIB_MAX_STEPS=$(MAX_STEPS) GANLIB_STRICT_CHECKS=1 GANLIB_STRICT_EXPECT=0 \
	  OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile -q notebooks $(SMOKE_ARGS)

# Each notebook's full-profile time on this machine: a capped full run that times its
# training steps (benchmarks/full_profile_times.json), then the table on book/instructors.md.
full-times: venv
	rm -f _build/full_profile_steps.jsonl
	GANLIB_PROFILE=full GANLIB_MAX_STEPS=12 GANLIB_STRICT_CHECKS=1 GANLIB_STRICT_EXPECT=0 \
	  GANLIB_TIMINGS=$(abspath _build/full_profile_steps.jsonl) OMP_NUM_THREADS=1 \
	  $(BIN)/python -m pytest -n 2 --dist loadfile -q notebooks || true  # a failing notebook is marked in the table
	$(BIN)/python -m ganlib.tools.timings measure _build/full_profile_steps.jsonl
	$(BIN)/python -m ganlib.tools.timings

# The oldest versions pyproject.toml allows (requirements-oldest.txt), in a venv of their own:
# the smoke test (train, resume, score every shipped generator, a metric, a check) and one
# notebook through nbval. ganlib goes in with --no-deps, as in Colab. CI runs this too.
OLDEST ?= .venv-oldest
$(OLDEST)/bin/.installed: requirements-oldest.txt pyproject.toml
	@test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST) || python3 -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet -r requirements-oldest.txt
	@touch $@

oldest-venv: $(OLDEST)/bin/.installed

# ganlib itself is installed here, not in oldest-venv, which CI runs beside make test's install.
oldest: oldest-venv
	$(OLDEST)/bin/python -m pip install --quiet -r requirements-oldest.txt  # undo the extras' numpy
	$(OLDEST)/bin/python -m pip install --quiet --no-deps -e .
	$(OLDEST)/bin/python -m ganlib.tools.versions --oldest
	GANLIB_PROFILE=quick GANLIB_STRICT_CHECKS=1 MPLBACKEND=Agg \
	  $(OLDEST)/bin/python -m pytest -q -p no:warnings tests/test_smoke.py
	GANLIB_PROFILE=quick GANLIB_STRICT_CHECKS=1 \
	  $(OLDEST)/bin/python -m pytest -q -p no:warnings --nbval-lax notebooks/04_mlp_gan.ipynb
	$(OLDEST)/bin/python -m pip install --quiet -r requirements-oldest-extras.txt
	$(OLDEST)/bin/python -m ganlib.tools.versions --oldest keras metrics widgets
	GANLIB_PROFILE=quick GANLIB_STRICT_CHECKS=1 MPLBACKEND=Agg \
	  $(OLDEST)/bin/python -m pytest -q -p no:warnings tests/test_keras.py tests/test_metrics_peers.py
	GANLIB_PROFILE=quick GANLIB_STRICT_CHECKS=1 \
	  $(OLDEST)/bin/python -m pytest -q -p no:warnings --nbval-lax notebooks/04_mlp_gan_keras.ipynb

# Python 3.12, as Colab runs: torch and friends preinstalled at releases older than our pins
# (requirements-py312.txt), ganlib added with --no-deps as in Colab; the smoke test and chapter 4
# through nbval. CI installs this beside make test and runs it last.
# pyenv's 3.12 when there is one (its shim refuses while 3.11 is the global version)
PY312 ?= $(or $(lastword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12)),python3.12)
VENV312 ?= .venv-py312
$(VENV312)/bin/.installed: requirements-py312.txt
	@test -x $(VENV312)/bin/python || $(PY312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install --quiet -r requirements-py312.txt
	@touch $@

py312-venv: $(VENV312)/bin/.installed

py312: py312-venv
	$(VENV312)/bin/python -m pip install --quiet --no-deps -e .
	$(VENV312)/bin/python -m ganlib.tools.versions
	GANLIB_PROFILE=quick GANLIB_STRICT_CHECKS=1 MPLBACKEND=Agg \
	  $(VENV312)/bin/python -m pytest -q -p no:warnings tests/test_smoke.py
	GANLIB_PROFILE=quick GANLIB_STRICT_CHECKS=1 \
	  $(VENV312)/bin/python -m pytest -q -p no:warnings notebooks/04_mlp_gan.ipynb

student: venv
	$(BIN)/python -m ganlib.tools.student notebooks --out student

# The Colab edition (no MyST, solutions folded, setup cell pinned to this release) in colab/
colab: venv
	$(BIN)/python -m ganlib.tools.colab notebooks --out colab

# The instructors' generated pages: exercises at a glance, and the term plan
term-plan: venv
	$(BIN)/python -m ganlib.tools.exercises
	$(BIN)/python -m ganlib.tools.term_plan

# nbgrader source tree (nbgrader-course/source/<chapter>/) from the same exercise markup
nbgrader: venv
	$(BIN)/python -m ganlib.tools.nbgrader_edition notebooks --out nbgrader-course

clean:
	rm -rf _build student colab nbgrader-course
