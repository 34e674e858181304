"""Polling semantics on a real broker: pagination styles, pollDelay, the boundary second, created/updated rules,
newest-first reads, and instances added, changed and deleted while the worker runs.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from service.app import prepare_topics
from service.config import Settings
from service.health import Health
from service.metrics import Metrics
from service.polling.paginate import PagePagination
from service.polling.worker import PollerWorker
from tests.fake_provider import FakeProvider, FakeRecord, make_records
from tests.integration.test_polling import contacts, now_ms, worker
from tests.kafka_helpers import wait_for
from tests.polling_harness import collectors, delete, element, instance, polls, register

pytestmark = pytest.mark.kafka


def seconds_only(value: datetime) -> str:
    """`2026-01-01T00:00:05Z`: a provider whose dates keep whole seconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def settle(registry: Any, more: int = 2, resource: str = "contacts") -> None:
    """Wait until `more` further polls committed (so anything extra would have been published)."""
    target = polls(registry, resource=resource) + more
    await wait_for(lambda: polls(registry, resource=resource) >= target, 30, what=f"{more} more polls")


@pytest.mark.parametrize(
    "pagination",
    [
        {"style": "hub"},
        {"style": "page"},
        {"style": "offset"},
        {"style": "cursor"},
        {"style": "link"},
        {"style": "next_url"},
    ],
    ids=lambda p: p["style"],
)
async def test_every_page_of_every_pagination_style_is_read(settings: Settings, pagination: dict[str, Any]) -> None:
    await prepare_topics(settings)
    records = make_records(23, start=now_ms() - timedelta(hours=1))
    el = element(contacts("/contacts"), pagination=pagination)
    async with (
        FakeProvider(records, pagination=el.pagination) as provider,
        collectors(settings) as (events, _cursors, _dlq),
    ):
        await register(settings, [el], [instance("i1", provider.base_url)])
        async with worker(settings) as metrics:
            await wait_for(lambda: len(events.records) >= 23, 30, what="23 events")
            await settle(metrics.registry)
    ids = Counter(v["objectId"] for v in events.values())
    assert ids == Counter(f"r{n}" for n in range(1, 24))
    # pageSize 5: five requests a poll at least for the first read.
    assert len(provider.requests) >= 5


async def test_poll_delay_catches_records_that_become_visible_late(settings: Settings) -> None:
    await prepare_topics(settings)
    async with (
        FakeProvider(since_param="since") as provider,
        collectors(settings) as (events, cursors, _dlq),
    ):
        el = element(contacts(pollDelay=4))
        await register(settings, [el], [instance("i1", provider.base_url)])
        async with worker(settings) as metrics:
            await settle(metrics.registry, 1)
            now = now_ms()
            # Dated now, but the provider serves it only 2 s later (a replica lagging behind): by then polls
            # have started after its date, and only the pollDelay overlap sees it.
            provider.add(FakeRecord("late", created=now, updated=now, visible_after=now.timestamp() + 2))
            provider.add(FakeRecord("prompt", created=now, updated=now))
            await wait_for(lambda: len(events.records) >= 2, 30, what="both records")
            # The overlap re-reads both for 4 s: the boundary keeps them from being published again.
            await settle(metrics.registry, 8)
    assert Counter(v["objectId"] for v in events.values()) == {"late": 1, "prompt": 1}
    cursor = cursors.latest()["i1/contacts"]
    assert cursor is not None
    assert cursor["boundary"] == []  # pruned once the window moved past their date


async def test_records_sharing_the_boundary_second_are_each_published_once(settings: Settings) -> None:
    await prepare_topics(settings)
    resources = contacts("/contacts")
    dates = resources["contacts"]["datesConfiguration"]
    dates["updatedDateFormat"] = dates["createdDateFormat"] = "yyyy-MM-dd'T'HH:mm:ss'Z'"
    metrics = Metrics(CollectorRegistry())
    async with (
        FakeProvider(date_format=seconds_only) as provider,
        collectors(settings) as (events, _cursors, _dlq),
        PollerWorker(settings, metrics, Health()) as poller,
    ):
        await register(settings, [element(resources)], [instance("i1", provider.base_url)])
        await settle(metrics.registry, 1)
        # Pause polling (events disabled) so that the last committed poll is known and none is in flight.
        paused = {"event.notification.enabled": "false"}
        await register(settings, instances=[instance("i1", provider.base_url, configuration=paused)])
        partitions = poller.ownership.partitions.values()
        await wait_for(
            lambda: all(len(p.scheduler) == 0 and p.scheduler.running == 0 for p in partitions), 30,
            what="polling paused",
        )
        cursor = next(c for p in partitions if (c := p.table.get("i1", "contacts")) is not None)
        assert cursor.last_poll_at is not None
        # Both changed in the second the last poll started, after it read: their shown date (a whole second)
        # is before that poll's start, yet inside the next window.
        second = cursor.last_poll_at.replace(microsecond=0)
        provider.add(FakeRecord("a", created=second, updated=second))
        provider.add(FakeRecord("b", created=second, updated=second))
        await register(settings, instances=[instance("i1", provider.base_url)])
        await wait_for(lambda: len(events.records) >= 2, 30, what="both records")
        await settle(metrics.registry, 3)
    assert Counter(v["objectId"] for v in events.values()) == {"a": 1, "b": 1}


async def test_created_check_tolerance_decides_created_or_updated(settings: Settings) -> None:
    await prepare_topics(settings)
    base = now_ms() - timedelta(minutes=30)
    records = [
        FakeRecord("same", created=base, updated=base),
        FakeRecord("close", created=base, updated=base + timedelta(seconds=3)),
        FakeRecord("later", created=base, updated=base + timedelta(seconds=60)),
    ]
    async with (
        FakeProvider(records) as provider,
        collectors(settings) as (events, _cursors, _dlq),
    ):
        await register(
            settings, [element(contacts("/contacts", createdCheckTolerance=5))], [instance("i1", provider.base_url)],
        )
        async with worker(settings) as metrics:
            await wait_for(lambda: len(events.records) >= 3, 30, what="three events")
            await settle(metrics.registry)
    types = {v["objectId"]: v["eventType"] for v in events.values()}
    assert types == {"same": "CREATED", "close": "CREATED", "later": "UPDATED"}


async def test_filter_by_created_date_publishes_new_records_only(settings: Settings) -> None:
    await prepare_topics(settings)
    old = now_ms() - timedelta(days=400)
    async with (
        FakeProvider([FakeRecord("old", created=old, updated=old)]) as provider,
        collectors(settings) as (events, _cursors, _dlq),
    ):
        await register(
            settings, [element(contacts("/contacts", filterByUpdatedDate="false"))],
            [instance("i1", provider.base_url, backfill=now_ms() - timedelta(days=1))],
        )
        async with worker(settings) as metrics:
            await settle(metrics.registry, 1)
            provider.records[0].updated = now_ms()  # an update of an old record: not a creation
            created = now_ms()
            provider.add(FakeRecord("new", created=created, updated=created))
            await wait_for(lambda: len(events.records) >= 1, 30, what="the new record")
            await settle(metrics.registry)
    values = events.values()
    assert [(v["objectId"], v["eventType"]) for v in values] == [("new", "CREATED")]


async def test_newest_first_resource_stops_at_the_first_record_older_than_the_window(settings: Settings) -> None:
    await prepare_topics(settings)
    records = make_records(30, start=now_ms() - timedelta(hours=3))
    resources = contacts("/contacts", newestFirst="true")
    async with (
        FakeProvider(records, order="newest_first") as provider,
        collectors(settings) as (events, _cursors, _dlq),
    ):
        await register(settings, [element(resources)], [instance("i1", provider.base_url)])
        async with worker(settings) as metrics:
            await wait_for(lambda: len(events.records) >= 30, 30, what="30 events")
            await settle(metrics.registry, 1)
            before = len(provider.requests)
            changed = now_ms()
            provider.add(FakeRecord("new", created=changed, updated=changed))
            await wait_for(lambda: len(events.records) >= 31, 30, what="the new record")
            await settle(metrics.registry, 2)
            after = len(provider.requests)
            done = polls(metrics.registry)
    assert Counter(v["objectId"] for v in events.values()) == Counter([*(f"r{n}" for n in range(1, 31)), "new"])
    # Later polls read one page each (6 pages exist): they stop at the first old record.
    assert after - before <= done


async def test_instances_added_changed_and_deleted_while_running(settings: Settings) -> None:
    await prepare_topics(settings)
    records = make_records(3, start=now_ms() - timedelta(hours=1))
    async with (
        FakeProvider(records) as provider,
        collectors(settings) as (events, cursors, _dlq),
    ):
        await register(settings, [element(contacts("/contacts"))], [instance("i1", provider.base_url)])
        async with worker(settings) as metrics:
            await wait_for(lambda: len(events.records) >= 3, 30, what="i1's events")
            # A new instance is polled without a restart.
            await register(settings, instances=[instance("i2", provider.base_url)])
            await wait_for(lambda: len(events.records) >= 6, 30, what="i2's events")
            # Events disabled: no more polls of i2 (its cursor stays).
            await register(
                settings,
                instances=[instance("i2", provider.base_url, configuration={"event.notification.enabled": "false"})],
            )
            await wait_for(
                lambda: metrics.registry.get_sample_value("connector_events_scheduled_resources") == 1, 30,
                what="i2 unscheduled",
            )
            assert cursors.latest().get("i2/contacts") is not None
            # Deleted: its cursor gets a tombstone.
            await delete(settings, "i1")
            await wait_for(lambda: "i1/contacts" in cursors.latest() and cursors.latest()["i1/contacts"] is None,
                           30, what="i1's cursor tombstone")
            assert metrics.registry.get_sample_value("connector_events_scheduled_resources") == 0
    ids = Counter((v["instanceId"], v["objectId"]) for v in events.values())
    assert ids == Counter((i, f"r{n}") for i in ("i1", "i2") for n in range(1, 4))



async def test_a_resource_may_page_differently_from_its_element(settings: Settings) -> None:
    await prepare_topics(settings)
    records = make_records(12, start=now_ms() - timedelta(hours=1))
    page_style = {"style": "page", "page_size_param": "per_page"}
    resources = contacts("/contacts", pagination=page_style)
    el = element(resources)  # the element keeps the default hub style
    async with (
        FakeProvider(records, pagination=PagePagination(page_size_param="per_page")) as provider,
        collectors(settings) as (events, _cursors, _dlq),
    ):
        await register(settings, [el], [instance("i1", provider.base_url)])
        async with worker(settings) as metrics:
            await wait_for(lambda: len(events.records) >= 12, 30, what="12 events")
            await settle(metrics.registry)
    assert Counter(v["objectId"] for v in events.values()) == Counter(f"r{n}" for n in range(1, 13))
    assert {r.query.get("page") for r in provider.requests[:3]} == {"1", "2", "3"}


async def test_a_new_refresh_interval_applies_to_the_coming_poll(settings: Settings) -> None:
    await prepare_topics(settings)
    async with FakeProvider(make_records(2)) as provider:
        hourly = {"event.poller.refresh_interval": "60"}
        await register(
            settings, [element(contacts("/contacts"))],
            [instance("i1", provider.base_url, configuration=hourly)],
        )
        async with worker(settings) as metrics:
            await wait_for(lambda: polls(metrics.registry) >= 1, 30, what="the first poll")
            # The next poll is an hour away, until the interval becomes a fraction of a second.
            await register(settings, instances=[instance("i1", provider.base_url)])
            await settle(metrics.registry, 2)


async def test_filter_by_current_date_publishes_a_future_dated_record_once_its_date_has_come(
    settings: Settings,
) -> None:
    await prepare_topics(settings)
    async with (
        FakeProvider() as provider,
        collectors(settings) as (events, _cursors, _dlq),
    ):
        await register(
            settings, [element(contacts("/contacts", filterByCurrentDate="true"))], [instance("i1", provider.base_url)],
        )
        async with worker(settings) as metrics:
            await settle(metrics.registry, 1)
            due = now_ms() + timedelta(seconds=6)
            provider.add(FakeRecord("future", created=due, updated=due))
            await settle(metrics.registry, 2)
            assert events.records == []  # dated after every poll's end so far
            await wait_for(lambda: len(events.records) >= 1, 30, what="the record once its date passed")
            await settle(metrics.registry, 3)
    assert [v["objectId"] for v in events.values()] == ["future"]
    # Published by the first poll whose window had reached the record's date.
    assert datetime.fromisoformat(events.values()[0]["pollDate"].replace("Z", "+00:00")) >= due
