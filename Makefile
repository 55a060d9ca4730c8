# `make test` and `make evidence` each set up a fresh machine by themselves: they create .venv
# and install Accord with its dev extras the first time (and again when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test evidence lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## test: lint, our own tests (simulator, site file, client, deployer, mutations), then the features
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest tests -q
	$(PY) -m pytest features -q

## evidence: verify the default target (the simulator) and leave the reports in reports/latest
evidence: $(STAMP)
	$(PY) -m pytest features

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) reports/2* reports/latest
