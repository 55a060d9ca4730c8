# `make test` and `make evidence` each set up a fresh machine by themselves: they create .venv
# and install Accord with its dev extras the first time (and again when pyproject.toml changes).

PYTHON ?= python3
PYTEST_ARGS ?=
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The simulated vCenter is built from govmomi's source with Debian's Go (simulator/vcsim/).
# The lab directory is Debian's slapd; net-snmp's snmpget cross-checks the SNMP agents;
# nftables drops packets to closed ports for the nodes when the run has root; headless
# chromium renders the HTML evidence report in tests/evidence.
DEBS := golang-go golang-github-vmware-govmomi-dev slapd ldap-utils snmp nftables chromium

.PHONY: test evidence lint clean vcsim debs saf

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## vcsim: the Debian packages the lab needs (installed when missing), then the simulated
## vCenter's binary (built once per machine into ~/.cache/accord/vcsim/)
vcsim: $(STAMP)
	@dpkg -s $(DEBS) >/dev/null 2>&1 || $(MAKE) --no-print-directory debs
	$(PY) -m simulator.vcsim.build

debs:
	@[ "$$(id -u)" = 0 ] || { echo "the lab needs Debian packages; as root run: apt-get install -y $(DEBS)"; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEBS) \
	  || { DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEBS); } \
	  || { echo "could not install $(DEBS) with apt-get"; exit 1; }

## saf: MITRE's SAF CLI and the Node.js 22 it needs (npm packages pinned in
## tests/evidence/saf/package.json), installed once per machine into ~/.cache/accord/saf/ for
## tests/evidence/test_saf.py; npm itself comes from Debian's archive when the machine has none.
saf: $(STAMP)
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory debs DEBS=npm
	$(PY) -m tests.evidence.saf_cli

## test: lint, our own tests (simulator, site file, client, deployer, mutations) on every core
## (pytest-xdist, a file per worker at a time: each worker has its own lab), then the features;
## it ends by saying how long it took (the one-time setup above not included)
test: $(STAMP) vcsim saf
	@start=$$(date +%s); status=0; \
	  $(PY) -m ruff check . && $(PY) -m ruff format --check . \
	  && $(PY) -m pytest tests -q -n auto --dist loadfile \
	  && $(PY) -m pytest features -q || status=$$?; \
	  echo "make test: $$(( $$(date +%s) - start )) s (lint, tests, features)"; \
	  exit $$status

## evidence: verify the default target (the simulator) and leave every report format in
## reports/latest (results.json, cucumber.json, junit.xml, hdf.json, OSCAL with evidence/,
## report.html, manifest.json), then check the folder against its manifest and say where it is.
## PYTEST_ARGS adds pytest options: make evidence PYTEST_ARGS='-m "SNMP-01" --site my.toml'
evidence: $(STAMP) vcsim
	@before=$$(readlink reports/latest 2>/dev/null); status=0; \
	  $(PY) -m pytest features $(PYTEST_ARGS) || status=$$?; \
	  if [ "$$(readlink reports/latest 2>/dev/null)" != "$$before" ] \
	    && [ -f reports/latest/manifest.json ]; then \
	    $(PY) -m accord evidence verify reports/latest || status=1; \
	    echo "make evidence: the reports are in $$(readlink -f reports/latest)/ (reports/latest)"; \
	  else \
	    echo "make evidence: no complete reports folder was written (see above)"; status=1; \
	  fi; \
	  exit $$status

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) reports/2* reports/latest
