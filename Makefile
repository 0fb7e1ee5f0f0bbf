# Two commands for a fresh machine (Python 3.11):
#   make book   build the HTML book under _build/html (executes every notebook)
#   make test   run every test: unit tests and every notebook through nbval
# Both create .venv and install requirements.txt when it is missing.
# Offline, point GANLIB_DATA at a folder holding MNIST/raw/.
PYTHON ?= python3.11
VENV ?= .venv
PROFILE ?= quick
BIN := $(VENV)/bin

.PHONY: book test venv student nbgrader clean

$(BIN)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

venv: $(BIN)/.installed

test: venv
	$(BIN)/ruff check src tests benchmarks conftest.py
	GANLIB_PROFILE=quick GANLIB_STRICT_CHECKS=1 MPLBACKEND=Agg \
	  $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax -q

book: venv
	GANLIB_PROFILE=$(PROFILE) GANLIB_STRICT_CHECKS=1 PATH="$(abspath $(BIN)):$$PATH" \
	  $(BIN)/jupyter-book build . --warningiserror --keep-going

student: venv
	$(BIN)/python -m ganlib.student notebooks --out student

# nbgrader source tree (nbgrader-course/source/<chapter>/) from the same exercise markup
nbgrader: venv
	$(BIN)/python -m ganlib.nbgrader_edition notebooks --out nbgrader-course

clean:
	rm -rf _build student nbgrader-course
