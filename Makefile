# One entry point for every check; CI runs `make test` through .ci/run, developers run `make check`.
PYTHON ?= python3
export PYTHONDONTWRITEBYTECODE = 1

.PHONY: install kafka kafka-stop demo test lint check bench

install:  ## Python packages of the service and its tests
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'

kafka:  ## a local single-node Kafka broker on 127.0.0.1:9092 (jars from Maven Central, cached)
	bash deploy/kafka.sh start

kafka-stop:
	bash deploy/kafka.sh stop

demo: install  ## local Kafka + demo CRM + the service, then tail the events
	bash deploy/demo/run.sh

test: install  ## everything the tests need, then the tests on a real broker (started by the test session)
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
