# Cetatea: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: venv run test lint fmt typecheck bench ci check audit browser-deps mail-deps pdf-deps robot-deps nginx-deps

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: $(STAMP)

run: venv robot-deps
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	CETATEA_DEBUG=$${CETATEA_DEBUG:-true} scripts/serve.sh

check: venv
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# Debian's chromium for the browser tests (installed when root; they skip without it).
browser-deps:
	@bash scripts/browser-deps.sh

# Debian's Dovecot for the e-mail-in tests (installed when root; they skip without it).
mail-deps:
	@bash scripts/mail-deps.sh

# DejaVu Sans for the registry's PDFs (Debian's fonts-dejavu-core, installed when root).
pdf-deps:
	@bash scripts/pdf-deps.sh

# espeak-ng, sox and sipp (sip-tester) for the phone robot (installed when root; skip without).
robot-deps:
	@bash scripts/robot-deps.sh

# nginx for the production stack on loopback (bench/prod.py, the load test bench/load.py).
nginx-deps:
	@bash scripts/nginx-deps.sh

# The security audit: ruff's S rules, every silenced finding explained, pip-audit
# (scripts/security_audit.py, docs/security.md "Security audit in CI").
audit: venv
	$(BIN)/python scripts/security_audit.py

test: venv check audit browser-deps mail-deps pdf-deps robot-deps
	$(BIN)/pytest -p no:cacheprovider -n 2

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The citizen lookup, the map (1,000,000 cases) and the Open311 API with its load run
# (gunicorn + wrk; wrk is installed with apt-get when missing and running as root), and
# the registry (500,000 entries: 8 clerks registering at once, the clerks' search), and
# what citizens owe (a taxpayer's balance with 10 years of history; 1,000,000 obligations
# imported), and the phone robot (20 simultaneous SIP calls: RTP pacing and how soon the
# answer starts; needs espeak-ng and sox, which robot-deps installs), and the load test of the
# production stack (nginx + gunicorn + worker, locust at 10 x a city's peak hour; nginx-deps).
# bench/faults.py restarts PostgreSQL under traffic (a few seconds; docs/benchmarks.md).
bench: venv robot-deps nginx-deps
	$(BIN)/python bench/run.py
	$(BIN)/python bench/map.py
	$(BIN)/python bench/open311.py --load
	$(BIN)/python bench/cti.py
	$(BIN)/python bench/console_queue.py
	$(BIN)/python bench/registry.py
	$(BIN)/python bench/revenue_balance.py
	$(BIN)/python bench/revenue_import.py
	$(BIN)/python bench/robot.py
	$(BIN)/python bench/intranet.py
	$(BIN)/python bench/intranet_documents.py
	$(BIN)/python bench/insights.py
	$(BIN)/python bench/insights_export.py --db all
	$(BIN)/python bench/load.py
	$(BIN)/python bench/faults.py

ci:
	bash .ci/run
