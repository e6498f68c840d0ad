# Two commands do all set-up on a fresh machine with only Python 3:
#   make demo   - start a local AWS emulator with demo resources and run every command on it
#   make test   - lint, type-check, the whole test suite, and each package tested alone (tox)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := -e ./core -e ./providers/aws_common[testing] -e ./providers/aws_lambda -e ./providers/aws_sfn -e ./providers/aws_sagemaker
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest isolated bench clean

$(STAMP): requirements-dev.txt core/pyproject.toml providers/*/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt $(PACKAGES)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo/run.py

test: lint typecheck pytest isolated

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n 2 -q

isolated: $(STAMP)
	$(BIN)/tox run-parallel --parallel 2 --parallel-no-spinner -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .tox
