"""The Kafka broker of the test session, and the rule that tests marked `kafka` get it or are skipped (failed in CI).

Where the broker comes from, first that works: KAFKA_BOOTSTRAP_SERVERS; testcontainers when a Docker engine
answers; `deploy/kafka.sh start` (port 19092 unless KAFKA_PORT is set), stopped at the end only if started here.
None: the tests skip, or fail when REQUIRE_KAFKA=1.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import uuid
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parent.parent
KAFKA_SCRIPT = REPO / "deploy" / "kafka.sh"
TEST_PORT = "19092"
# First start on a new machine downloads the jars (~10 s on a good link), then the JVM needs a few seconds.
START_TIMEOUT = 300
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def docker_answers(timeout: float = 2.0) -> bool:
    """Whether a Docker engine answers `GET /_ping` within `timeout` seconds (a CLI without a daemon does not)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    url = urlparse(host)
    conn: http.client.HTTPConnection
    if url.scheme == "unix":
        conn = _UnixHTTPConnection(url.path, timeout)
    elif url.scheme in {"tcp", "http"} and url.hostname:
        conn = http.client.HTTPConnection(url.hostname, url.port or 2375, timeout=timeout)
    else:
        return False
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _from_testcontainers(stack: ExitStack) -> str:
    with warnings.catch_warnings():
        # Docker SDK and testcontainers import with deprecation warnings; pytest turns warnings into errors.
        warnings.simplefilter("ignore", DeprecationWarning)
        from testcontainers.kafka import KafkaContainer  # noqa: PLC0415 - only where Docker answers

        container = stack.enter_context(KafkaContainer(KAFKA_IMAGE).with_kraft())
        return str(container.get_bootstrap_server())


def _kafka_sh(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(KAFKA_SCRIPT), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )


def _from_script(stack: ExitStack) -> str:
    env = dict(os.environ)
    env.setdefault("KAFKA_PORT", TEST_PORT)
    # Its own state directory, so a developer's broker on 9092 (deploy/kafka.sh start) is left alone.
    env.setdefault(
        "KAFKA_STATE_DIR", str(Path.home() / ".cache" / "connector-events" / f"kafka-state-{env['KAFKA_PORT']}")
    )
    already_running = _kafka_sh("status", env).returncode == 0
    if not already_running:
        # Each session starts with empty topics; tests make their own uuid-named ones anyway.
        env.setdefault("KAFKA_CLEAN", "1")
    started = _kafka_sh("start", env)
    if started.returncode != 0:
        tail = "\n".join(started.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"deploy/kafka.sh start failed:\n{tail}")
    if not already_running:
        stack.callback(_kafka_sh, "stop", env)
    return started.stdout.strip().splitlines()[-1]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("REQUIRE_KAFKA") == "1":
        pytest.fail(f"REQUIRE_KAFKA=1 but no Kafka broker: {reason}", pytrace=False)
    pytest.skip(f"no Kafka broker: {reason}")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address (`host:port`) of a real Kafka broker for the whole session."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    with ExitStack() as stack:
        errors: list[str] = []
        bootstrap = None
        if docker_answers():
            try:
                bootstrap = _from_testcontainers(stack)
            except Exception as exc:  # a broken Docker setup falls back to the script
                errors.append(f"testcontainers: {exc}")
        if bootstrap is None:
            try:
                bootstrap = _from_script(stack)
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
                errors.append(str(exc))
        if bootstrap is None:
            _unavailable("; ".join(errors))
        yield bootstrap


@pytest.fixture
def topic_suffix() -> str:
    """A fresh suffix for this test's topic names, so tests never share topics."""
    return uuid.uuid4().hex[:12]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests marked `kafka` need the broker even when they take the address another way: requesting the fixture
    # gives them its skip (or fail under REQUIRE_KAFKA=1) when there is none.
    for item in items:
        if (
            isinstance(item, pytest.Function)
            and item.get_closest_marker("kafka")
            and "kafka_bootstrap" not in item.fixturenames
        ):
            item.fixturenames.insert(0, "kafka_bootstrap")
