"""Ownership on a real broker: workers joining and leaving one group, and a worker killed (SIGKILL) mid-poll.

Exactly once for read_committed consumers: every change is published, none twice, whatever happens to workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from service.app import prepare_topics
from service.config import Settings
from service.health import Health
from service.metrics import Metrics
from service.polling.worker import PollerWorker
from tests.fake_provider import FakeProvider, FakeRecord, Fault, make_records
from tests.integration.test_polling import contacts, now_ms
from tests.kafka_helpers import consume_all, wait_for
from tests.polling_harness import collectors, element, instance, register

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
INSTANCES = [f"i{n}" for n in range(1, 7)]


def owned(workers: list[PollerWorker]) -> list[set[int]]:
    """The partitions each worker runs a poller for."""
    return [set(w.ownership.partitions) for w in workers]


def disjoint_and_complete(workers: list[PollerWorker], partitions: int = 3) -> bool:
    """Every partition owned by exactly one worker."""
    sets = owned(workers)
    return sum(len(s) for s in sets) == partitions and set().union(*sets) == set(range(partitions))


async def test_workers_leaving_and_joining_keep_every_instance_polled_once(settings: Settings) -> None:
    await prepare_topics(settings)
    records = make_records(3, start=now_ms() - timedelta(hours=1))
    async with (
        FakeProvider(records) as provider,
        collectors(settings) as (events, _cursors, _dlq),
        contextlib.AsyncExitStack() as stack,
    ):
        # Each instance reads its own path of the same fake resource.
        await register(
            settings, [element(contacts("/contacts"))],
            [instance(i, f"{provider.base_url}/{i}") for i in INSTANCES],
        )
        workers = [PollerWorker(settings, Metrics(CollectorRegistry()), Health()) for _ in range(3)]
        for w in workers:
            await stack.enter_async_context(w)
        await wait_for(lambda: disjoint_and_complete(workers), 60, what="3 partitions over 3 workers")
        await wait_for(lambda: len(events.records) >= 18, 60, what="3 records of 6 instances")

        # One worker leaves: its partitions move, every instance is still polled.
        await workers[1].stop()
        await wait_for(lambda: disjoint_and_complete([workers[0], workers[2]]), 60, what="a rebalance to 2")
        changed = now_ms()
        provider.add(FakeRecord("r4", created=changed, updated=changed))
        await wait_for(lambda: len(events.records) >= 24, 60, what="r4 of 6 instances")

        # It comes back (a new process would be a new worker too).
        workers[1] = PollerWorker(settings, Metrics(CollectorRegistry()), Health())
        await stack.enter_async_context(workers[1])
        await wait_for(
            lambda: disjoint_and_complete(workers) and all(owned(workers)), 60, what="a rebalance to 3",
        )
        changed = now_ms()
        provider.add(FakeRecord("r5", created=changed, updated=changed))
        await wait_for(lambda: len(events.records) >= 30, 60, what="r5 of 6 instances")
        # Every instance polled again after the last rebalance, still nothing extra.
        seen = len(provider.requests)
        await wait_for(lambda: len(provider.requests) >= seen + 12, 60, what="two more polls of each")

    keys = Counter((v["instanceId"], v["objectId"]) for v in events.values())
    assert keys == Counter((i, f"r{n}") for i in INSTANCES for n in range(1, 6))
    assert len({v["eventId"] for v in events.values()}) == 30


def _env(settings: Settings) -> dict[str, str]:
    topics = settings.topics
    env = {
        **os.environ,
        "CONNECTOR_EVENTS_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "CONNECTOR_EVENTS_KAFKA__TRANSACTIONAL_ID_PREFIX": settings.kafka.transactional_id_prefix,
        "CONNECTOR_EVENTS_TOPICS__EVENTS": topics.events,
        "CONNECTOR_EVENTS_TOPICS__DLQ": topics.dlq,
        "CONNECTOR_EVENTS_TOPICS__CURSORS": topics.cursors,
        "CONNECTOR_EVENTS_TOPICS__INSTANCES": topics.instances,
        "CONNECTOR_EVENTS_TOPICS__ELEMENTS": topics.elements,
        "CONNECTOR_EVENTS_TOPICS__PARTITIONS": str(topics.partitions),
        "CONNECTOR_EVENTS_TOPICS__EVENTS_PARTITIONS": str(topics.events_partitions),
        "CONNECTOR_EVENTS_POLLING__GROUP_ID": settings.polling.group_id,
        # Small: the poll streams its pages into an open transaction, which the kill leaves behind.
        "CONNECTOR_EVENTS_POLLING__MAX_BUFFERED_EVENTS": "20",
        "CONNECTOR_EVENTS_HTTP__HOST": "127.0.0.1",
        "CONNECTOR_EVENTS_HTTP__PORT": "0",
        "CONNECTOR_EVENTS_LOG_FORMAT": "text",
        "PYTHONPATH": str(REPO),
    }
    return env


@contextlib.asynccontextmanager
async def poller_process(settings: Settings) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m service run --role poller` with the test's settings; killed at exit if still running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service", "run", "--role", "poller",
        env=_env(settings), cwd=str(REPO),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_a_worker_killed_mid_poll_publishes_nothing_twice(settings: Settings) -> None:
    await prepare_topics(settings)
    records = make_records(200, start=now_ms() - timedelta(hours=5))
    # 10 records a page, every page slow: the first poll takes about 4 s.
    faults = {n: Fault(delay=0.2) for n in range(1, 200)}
    resources = contacts("/contacts", pageSize=10)
    async with (
        FakeProvider(records, faults=faults) as provider,
        collectors(settings) as (events, cursors, _dlq),
    ):
        await register(settings, [element(resources)], [instance("i1", provider.base_url)])
        async with poller_process(settings) as first:
            bootstrap = settings.kafka.bootstrap_servers

            async def streamed() -> bool:
                return len(await consume_all(bootstrap, settings.topics.events)) >= 20

            # Kill only once pages reached the log inside the poll's open transaction (a loaded machine may lag).
            await wait_for(streamed, 90, interval=0.1, what="pages streamed into an open transaction")
            first.send_signal(signal.SIGKILL)
            await first.wait()
        # Those pages belong to a transaction that never committed: invisible to read_committed.
        assert events.records == []

        async with poller_process(settings):
            await wait_for(lambda: len(events.records) >= 200, 120, what="200 events after the restart")
            written = len(cursors.records)
            await wait_for(lambda: len(cursors.records) >= written + 2, 60, what="two more polls")

    ids = Counter(v["objectId"] for v in events.values())
    assert ids == Counter(f"r{n}" for n in range(1, 201))
    assert len({v["eventId"] for v in events.values()}) == 200


async def test_stopping_a_worker_lets_its_running_poll_finish_and_commit(settings: Settings) -> None:
    await prepare_topics(settings)
    records = make_records(25, start=now_ms() - timedelta(hours=1))
    faults = {n: Fault(delay=0.3) for n in range(1, 10)}  # 5 pages of 5: the first poll takes ~1.5 s
    async with (
        FakeProvider(records, faults=faults) as provider,
        collectors(settings) as (events, cursors, _dlq),
    ):
        await register(settings, [element(contacts("/contacts"))], [instance("i1", provider.base_url)])
        async with PollerWorker(settings, Metrics(CollectorRegistry()), Health()):
            await wait_for(lambda: len(provider.requests) >= 2, 30, interval=0.01, what="a poll in progress")
            assert events.records == []
        # Stopped (as on SIGTERM) within the grace period: the poll finished and committed.
        await wait_for(lambda: len(events.records) >= 25, 30, what="the poll's events")
        await wait_for(lambda: cursors.latest().get("i1/contacts") is not None, 30, what="its cursor")
    assert Counter(v["objectId"] for v in events.values()) == Counter(f"r{n}" for n in range(1, 26))
