# `make test` and `make evidence` each set up a fresh machine by themselves: they create .venv
# and install Accord with its dev extras the first time (and again when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The simulated vCenter is built from govmomi's source with Debian's Go (simulator/vcsim/).
VCSIM_DEBS := golang-go golang-github-vmware-govmomi-dev

.PHONY: test evidence lint clean vcsim vcsim-debs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## vcsim: the Debian packages the simulated vCenter needs (installed when missing), then its
## binary (built once per machine into ~/.cache/accord/vcsim/)
vcsim: $(STAMP)
	@dpkg -s $(VCSIM_DEBS) >/dev/null 2>&1 || $(MAKE) --no-print-directory vcsim-debs
	$(PY) -m simulator.vcsim.build

vcsim-debs:
	@[ "$$(id -u)" = 0 ] || { echo "vcsim needs Debian packages; as root run: apt-get install -y $(VCSIM_DEBS)"; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(VCSIM_DEBS) \
	  || { DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(VCSIM_DEBS); } \
	  || { echo "vcsim: could not install $(VCSIM_DEBS) with apt-get"; exit 1; }

## test: lint, our own tests (simulator, site file, client, deployer, mutations), then the features
test: $(STAMP) vcsim
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest tests -q
	$(PY) -m pytest features -q

## evidence: verify the default target (the simulator) and leave the reports in reports/latest
evidence: $(STAMP) vcsim
	$(PY) -m pytest features

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) reports/2* reports/latest
