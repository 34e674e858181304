"""A real Kafka outage under the webhook ingress: 503 with Retry-After while the broker is down, and the provider's
retry after it is back publishes the webhook's events with the same ids, none lost.

The test starts a broker of its own with `deploy/kafka.sh` (its own port and state directory) and stops and
restarts it; the session's shared broker is left alone.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from service.bus.producer import EventBus
from service.config import Settings
from service.events import event_id
from tests.integration.test_webhook_ingress import GITHUB_PUSH, fast_hooks, prepare, serve, sign_github
from tests.kafka_helpers import consume_all, wait_for

pytestmark = pytest.mark.kafka

KAFKA_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "kafka.sh"
# Short, so the request during the outage answers 503 soon; the provider's retry comes later anyway.
SEND_TIMEOUT = 3.0


def _free_port_pair() -> int:
    # kafka.sh puts the controller on port + 1: both must be free.
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with socket.socket() as controller:
            try:
                controller.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free ports")


@dataclass
class Broker:
    """A broker of this test only, stopped and started through deploy/kafka.sh."""

    env: dict[str, str]
    bootstrap: str = ""

    async def run(self, command: str) -> str:
        """`deploy/kafka.sh <command>`; its stdout (the bootstrap address for start)."""
        process = await asyncio.create_subprocess_exec(
            "bash", str(KAFKA_SCRIPT), command, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"kafka.sh {command} failed: {err.decode()[-2000:]}")
        return out.decode().strip()

    async def start(self) -> None:
        """Start (or restart, keeping its data) and wait until it answers."""
        self.bootstrap = (await self.run("start")).splitlines()[-1]

    async def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL)."""
        await self.run("stop")


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    """A fresh single-node broker on free ports, stopped at the end."""
    env = {**os.environ, "KAFKA_PORT": str(_free_port_pair()), "KAFKA_STATE_DIR": str(tmp_path / "kafka"),
           "KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m"}
    dedicated = Broker(env)
    await dedicated.start()
    try:
        yield dedicated
    finally:
        await dedicated.stop()


async def test_kafka_outage_is_503_and_the_retry_publishes_the_same_event_ids(
    settings: Settings, broker: Broker
) -> None:
    configured = fast_hooks(settings)
    configured = configured.model_copy(
        update={"kafka": configured.kafka.model_copy(update={"bootstrap_servers": broker.bootstrap})}
    )
    await prepare(configured)
    body = orjson.dumps(GITHUB_PUSH)

    def delivery(name: str) -> dict[str, str]:
        return {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": name,
                **sign_github(body, "")}

    async with EventBus(configured.kafka, send_timeout=SEND_TIMEOUT) as bus:
        async for harness in serve(configured, bus):
            before = await harness.client.post("/events/github/gh-1", data=body, headers=delivery("before"))
            assert before.status == 200

            await broker.stop()
            during = await harness.client.post("/events/github/gh-1", data=body, headers=delivery("during"))
            assert during.status == 503
            assert int(during.headers["Retry-After"]) > 0
            outcome = {"element": "github", "outcome": "unavailable"}
            assert harness.metrics.registry.get_sample_value("connector_events_webhook_requests_total", outcome) == 1

            await broker.start()

            async def redelivered(client: TestClient[web.Request, web.Application] = harness.client) -> Any:
                # The provider retries the same delivery until it gets a 2xx.
                response = await client.post("/events/github/gh-1", data=body, headers=delivery("during"))
                return await response.json() if response.status == 200 else None

            retried = await wait_for(redelivered, 90, interval=1.0, what="a 200 after the broker came back")
            assert retried["eventIds"] == [event_id("gh-1", "delivery", "during", str(i)) for i in range(2)]

    records = await consume_all(broker.bootstrap, configured.topics.events, timeout=30)
    ids = [orjson.loads(record.value)["eventId"] for record in records]
    expected = {event_id("gh-1", "delivery", name, str(i)) for name in ("before", "during") for i in range(2)}
    assert set(ids) == expected  # nothing lost
    assert [ids.count(event_id("gh-1", "delivery", "before", str(i))) for i in range(2)] == [1, 1]
    # At least once, not exactly once: the records that the timed-out publish handed to the producer stay in its
    # buffer and are written when the broker is back, besides the retry's. Same ids, so consumers drop repeats.
    assert all(ids.count(event_id("gh-1", "delivery", "during", str(i))) in (1, 2) for i in range(2))
