# Two commands: `make demo` and `make test`. Both build the environment from uv.lock first.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: setup spark java browser postgres demo test bench reliability lint dagster clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --inexact --compile-bytecode --quiet --extra postgres --extra matching
	cd dbt_project && ../$(VENV)/bin/dbt parse --quiet --profiles-dir . --project-dir .
	touch $@

setup: $(VENV)/.synced

# the Spark engine (c360 run --engine spark): the spark extra (PySpark is built from its
# source package the first time, about 80 s) and Java 17
$(VENV)/.synced-spark: $(VENV)/.synced
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --inexact --compile-bytecode --quiet --extra postgres --extra matching --extra spark
	touch $@

spark: $(VENV)/.synced-spark java

java:
	@command -v java >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null; }

demo: setup
	$(VENV)/bin/c360 demo

# the report test opens the report in a real browser: Debian's Chromium
browser:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# the PostgreSQL publish test starts a real server: Debian's PostgreSQL
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }

test: setup spark browser postgres
	$(VENV)/bin/pytest -q -n 2 --dist loadfile --durations=25

bench: setup
	$(VENV)/bin/c360 bench --lines $${LINES:-1M}

# RELIABILITY.md: the adversarial corpus and the fault tests, with what each input or
# fault did (the same tests `make test` runs)
reliability: setup
	mkdir -p data
	$(VENV)/bin/pytest -q -n 2 --dist loadfile -m "corpus or faults" \
		--junitxml=data/reliability.xml; status=$$?; \
	$(VENV)/bin/python scripts/reliability_report.py data/reliability.xml RELIABILITY.md; \
	exit $$status

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint dbt_project/models dbt_project/tests --processes 2

# the UI on the same Dagster instance as `c360 run` (DAGSTER_HOME, default data/dagster)
dagster: setup
	DAGSTER_HOME="$$($(VENV)/bin/c360 dagster-home)" $(VENV)/bin/dagster dev -w workspace.yaml

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
