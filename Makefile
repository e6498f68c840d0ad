# Shortcuts for dev.py, which needs only Python 3 (see README.md).
PYTHON ?= python3

.PHONY: demo test bench clean
demo:
	$(PYTHON) dev.py demo
test:
	$(PYTHON) dev.py test
bench:
	$(PYTHON) dev.py bench
clean:
	rm -rf .venv .tox
