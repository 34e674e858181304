# One entry point for every check; CI runs `make test` through .ci/run, developers run `make check`.
PYTHON ?= python3
export PYTHONDONTWRITEBYTECODE = 1

.PHONY: install helm kafka kafka-stop demo test lint check bench

install:  ## Python packages of the service and its tests
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'

# The chart tests render the chart with a real helm when one is found (PATH, $HELM or ~/go/bin/helm). Debian and
# PyPI ship none, so it is built from its Go module when Go is present (~4 min once; skipped when already built).
helm:
	@if command -v helm >/dev/null 2>&1 || [ -x "$$HOME/go/bin/helm" ]; then echo "helm present"; \
	elif command -v go >/dev/null 2>&1; then go install helm.sh/helm/v3/cmd/helm@v3.22.0 || echo "helm build failed: chart render tests will skip"; \
	else echo "no Go toolchain: chart render tests will skip"; fi

kafka:  ## a local single-node Kafka broker on 127.0.0.1:9092 (jars from Maven Central, cached)
	bash deploy/kafka.sh start

kafka-stop:
	bash deploy/kafka.sh stop

demo: install  ## local Kafka + demo CRM + the service, then tail the events
	bash deploy/demo/run.sh

test: install helm  ## everything the tests need, then the tests on a real broker (started by the test session)
	bash deploy/kafka.sh fetch
	REQUIRE_KAFKA=1 $(PYTHON) -m pytest

lint: install
	$(PYTHON) -m ruff check service tests bench deploy
	$(PYTHON) -m mypy

check: lint test

bench: install
	$(PYTHON) bench/dates.py
	$(PYTHON) bench/polling.py
	$(PYTHON) bench/webhooks.py
