"""Provider faults on a real broker: rate limits, server errors, timeouts, truncated JSON and a bad date.

Whatever the provider does, every change is published exactly once, a bad record goes to the DLQ, and a failed
poll records its error in the cursor's status without moving `lastPollAt`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from service.app import prepare_topics
from service.config import Settings
from tests.fake_provider import FakeProvider, FakeRecord, Fault, make_records
from tests.integration.test_polling import contacts, now_ms, polled_after, worker
from tests.integration.test_polling_semantics import settle
from tests.kafka_helpers import wait_for
from tests.polling_harness import ELEMENT, collectors, element, instance, polls, register, sample

pytestmark = pytest.mark.kafka


def impatient(settings: Settings) -> Settings:
    """Short timeouts and retry delays, three attempts a page."""
    polling = settings.polling.model_copy(
        update={
            "request_timeout": timedelta(seconds=1),
            "retry_base_delay": timedelta(milliseconds=10),
            "retry_max_delay": timedelta(milliseconds=50),
            "max_attempts": 3,
        }
    )
    return settings.model_copy(update={"polling": polling})


async def test_faults_lose_nothing_and_duplicate_nothing(settings: Settings) -> None:
    settings = impatient(settings)
    await prepare_topics(settings)
    records = make_records(12, start=now_ms() - timedelta(hours=1))
    # pageSize 5: pages 1-3 of the first poll, each fault retried on the same page.
    faults = {
        1: Fault(status=429, retry_after="1"),
        3: Fault(status=500, body="oops"),
        4: Fault(truncate=True),
        5: Fault(bad_date=True),  # page 2: r6 cannot be read -> DLQ, the poll goes on
        6: Fault(delay=2.0),  # page 3 times out once
    }
    async with (
        FakeProvider(records, since_param="since", faults=faults) as provider,
        collectors(settings) as (events, cursors, dlq),
    ):
        await register(settings, [element(contacts())], [instance("i1", provider.base_url)])
        async with worker(settings) as metrics:
            await wait_for(lambda: len(events.records) >= 11, 30, what="11 events")
            await wait_for(lambda: polls(metrics.registry) >= 1, 30, what="the first poll")
            # Every attempt of the next poll's page fails: the poll fails.
            upcoming = len(provider.requests)
            for n in range(upcoming + 1, upcoming + 4):
                provider.faults[n] = Fault(status=502, body="bad gateway")
            await wait_for(lambda: polls(metrics.registry, "failed") >= 1, 30, what="a failed poll")
            changed = now_ms()
            provider.add(FakeRecord("r13", created=changed, updated=changed))
            await wait_for(lambda: len(events.records) >= 12, 30, what="r13 after the failure")
            await settle(metrics.registry)
            await wait_for(lambda: polled_after(cursors.latest(), changed), 30, what="a cursor past the change")
            registry = metrics.registry

    assert Counter(v["objectId"] for v in events.values()) == Counter(
        [*(f"r{n}" for n in range(1, 13) if n != 6), "r13"],
    )
    assert len(dlq.records) == 1
    letter = dlq.records[0]
    headers = dict(letter.headers)
    assert b"not a date" in (letter.value or b"")
    assert headers["error_instance"] == b"i1"
    assert headers["error_resource"] == b"contacts"
    assert b"lastModifiedDate" in headers["error_reason"]
    assert letter.key == b"i1:contacts:r6"
    # The failed poll committed only its status: lastPollAt and the boundary did not move.
    history = [v for v in cursors.values() if v["resource"] == "contacts"]
    at = next(n for n, v in enumerate(history) if v["status"]["lastOutcome"] == "failed")
    first, failed = history[at - 1], history[at]
    assert first["status"]["lastOutcome"] == "ok"
    assert failed["lastPollAt"] == first["lastPollAt"]
    assert failed["boundary"] == first["boundary"]
    assert failed["status"]["lastOutcome"] == "failed"
    assert failed["status"]["consecutiveFailures"] == 1
    assert "502" in failed["status"]["lastError"]
    final = cursors.latest()["i1/contacts"]
    assert final is not None
    assert final["status"] == {**final["status"], "lastOutcome": "ok", "lastError": None, "consecutiveFailures": 0}
    assert datetime.fromisoformat(final["lastPollAt"]) > changed
    assert sample(registry, "connector_events_rate_limit_waits_total", element=ELEMENT) == 1
    assert sample(registry, "connector_events_dlq_records_total", source="polling", reason="normalization") == 1
    assert polls(registry, "failed") == 1


async def test_page_cap_publishes_what_was_read_and_resumes_from_there(settings: Settings) -> None:
    settings = settings.model_copy(update={"polling": settings.polling.model_copy(update={"max_pages": 2})})
    await prepare_topics(settings)
    records = make_records(23, start=now_ms() - timedelta(hours=1))
    async with (
        FakeProvider(records, since_param="since") as provider,
        collectors(settings) as (events, cursors, _dlq),
    ):
        await register(settings, [element(contacts())], [instance("i1", provider.base_url)])
        async with worker(settings) as metrics:
            await wait_for(lambda: len(events.records) >= 23, 30, what="23 events over capped polls")
            await settle(metrics.registry)
            capped = polls(metrics.registry, "page_cap")
    assert Counter(v["objectId"] for v in events.values()) == Counter(f"r{n}" for n in range(1, 24))
    assert capped >= 2  # 23 records, 10 a poll
    final = cursors.latest()["i1/contacts"]
    assert final is not None
    assert final["status"]["lastOutcome"] == "ok"


async def test_a_poll_failing_after_streaming_pages_aborts_them_and_records_the_failure(settings: Settings) -> None:
    settings = impatient(settings)
    # Two pages fill the buffer: the rest of the poll streams into an exclusive transaction.
    settings = settings.model_copy(
        update={"polling": settings.polling.model_copy(update={"max_buffered_events": 10})},
    )
    await prepare_topics(settings)
    records = make_records(30, start=now_ms() - timedelta(hours=1))
    # Page 4 of the first poll fails every attempt, after pages 1-3 were sent into the transaction.
    faults = {n: Fault(status=500, body="down") for n in (4, 5, 6)}
    async with (
        FakeProvider(records, faults=faults) as provider,
        collectors(settings) as (events, cursors, _dlq),
    ):
        await register(settings, [element(contacts("/contacts"))], [instance("i1", provider.base_url)])
        async with worker(settings) as metrics:
            await wait_for(lambda: len(events.records) >= 30, 30, what="30 events after the failed poll")
            await settle(metrics.registry)
            registry = metrics.registry
    assert Counter(v["objectId"] for v in events.values()) == Counter(f"r{n}" for n in range(1, 31))
    history = [v for v in cursors.values() if v["resource"] == "contacts"]
    assert history[0]["status"]["lastOutcome"] == "failed"
    assert history[0]["lastPollAt"] is None  # the first window again: nothing of the failed poll was kept
    assert history[0]["boundary"] == []
    assert polls(registry, "failed") == 1
    assert sample(registry, "connector_events_commits_total", outcome="aborted") == 1
