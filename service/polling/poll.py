"""One poll of one (instance, resource): window, fetch, classify, events and dead letters, the new cursor, commit.

The events of a poll and its new cursor are committed in one transaction (group-committed with other polls of
the partition, or streamed into an exclusive transaction when the poll is too large to buffer), so a poll's
events become visible exactly when its cursor advances. A failed poll commits only its status.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from service.bus.records import OutgoingRecord, dead_letter_record, event_record
from service.bus.transactions import PartitionCommitter, Transaction
from service.config import Settings
from service.cursors import Cursor, CursorStatus, Outcome, cursor_record
from service.dates import PlaceholderError, render_url
from service.errors import ConfigError, NormalizationError, PublishError, UpstreamError
from service.events import EventSource, NormalizedEvent, event_id
from service.metrics import Metrics
from service.polling.classify import Classification, classify, prune_boundary
from service.polling.fetch import FetchRequest, PageCapError, ProviderClient, RetryPolicy, Timeouts
from service.polling.fieldpath import MISSING
from service.polling.readahead import page_reader
from service.polling.resources import ResourceConfig
from service.polling.window import floor_to_precision, older_than, window_start
from service.registry.models import ResolvedInstance

log = logging.getLogger(__name__)

_MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class PollContext:
    """What every poll of a partition shares."""

    settings: Settings
    metrics: Metrics
    client: ProviderClient
    committer: PartitionCommitter
    partition: int


@dataclass(slots=True)
class _Emitted:
    event: NormalizedEvent
    classification: Classification


class _Abandoned(Exception):
    """A streaming poll failed: leave its exclusive transaction by aborting it."""


class _Poll:
    """The state of one running poll."""

    def __init__(
        self, ctx: PollContext, resolved: ResolvedInstance, name: str, resource: ResourceConfig,
        cursor: Cursor | None, now: datetime, alive: Callable[[], bool],
    ) -> None:
        self.ctx = ctx
        self.resolved = resolved
        self.name = name
        self.resource = resource
        self.cursor = cursor
        self.end = now
        self.start = floor_to_precision(window_start(resolved, resource, cursor, now), resource)
        self.alive = alive
        self.boundary = {(oid, when) for oid, when in (cursor.boundary if cursor else [])}
        self.buffer: list[_Emitted] = []
        self.dead: list[OutgoingRecord] = []
        self.emitted_boundary: set[tuple[str, datetime]] = set()
        self.seen_ids: set[tuple[str, datetime]] = set()
        self.events = 0
        self.dead_letters = 0
        self.by_type: dict[str, int] = {}
        self.newest: datetime | None = None
        self.stream: Transaction | None = None  # the exclusive transaction once the poll outgrew the buffer
        self.outcome: Outcome = "ok"
        self.error: str | None = None

    @property
    def where(self) -> dict[str, str]:
        return {"instance": self.resolved.instance.id, "resource": self.name}

    def request(self) -> FetchRequest:
        instance, polling = self.resolved.instance, self.ctx.settings.polling
        if instance.base_url is None:
            raise ConfigError(f"instance {instance.id} has no baseUrl; resource {self.name} cannot be polled")
        url = render_url(self.resource.url, self.start, self.end, self.resolved.string_config())
        return FetchRequest(
            element_key=instance.element_key,
            instance_id=instance.id,
            resource=self.name,
            base_url=str(instance.base_url),
            url=url,
            auth=instance.auth,
            pagination=self.resource.pagination or self.resolved.element.pagination,
            page_size=self.resource.page_size,
            records_path=self.resource.records_path,
            max_pages=polling.max_pages,
            timeouts=Timeouts(total=polling.request_timeout.total_seconds()),
            retry=RetryPolicy(
                max_attempts=polling.max_attempts,
                base_delay=polling.retry_base_delay.total_seconds(),
                max_delay=polling.retry_max_delay.total_seconds(),
                max_retry_after=polling.max_retry_after.total_seconds(),
            ),
        )

    def take(self, record: dict[str, Any]) -> bool:
        """Classify one record into the buffer or the dead letters; False when a newest-first read should stop."""
        try:
            found = classify(record, self.resource, self.start, self.end, self.boundary)
        except NormalizationError as exc:
            self.dead.append(self._dead_letter(record, str(exc)))
            return True
        if found is None:
            if self.resource.newest_first:
                return not older_than(record, self.resource, self.start)
            return True
        pair = (found.object_id, found.date)
        if pair in self.seen_ids:
            return True  # a record served twice in one read (pages shifted under us)
        self.seen_ids.add(pair)
        self.buffer.append(_Emitted(self._event(record, found), found))
        return True

    def _event(self, record: dict[str, Any], found: Classification) -> NormalizedEvent:
        instance, element = self.resolved.instance, self.resolved.element
        object_type = self.resource.object_type or self.name
        return NormalizedEvent(
            event_id=event_id(
                instance.id, object_type, found.object_id, found.date.isoformat(), found.event_type.value,
            ),
            event_type=found.event_type,
            object_type=object_type,
            object_id=found.object_id,
            date=found.date,
            poll_date=self.end,
            element_key=element.key,
            hub_key=element.hub_key,
            instance_id=instance.id,
            instance_name=instance.name,
            instance_tags=list(instance.tags),
            source=EventSource.POLLING,
            raw=record,
        )

    def _dead_letter(self, record: dict[str, Any], reason: str) -> OutgoingRecord:
        instance = self.resolved.instance
        raw_id = self.resource.id_field.get(record)
        object_id = "" if raw_id is MISSING or raw_id is None else str(raw_id)
        key = f"{instance.id}:{self.resource.object_type or self.name}:{object_id}"
        return dead_letter_record(
            self.ctx.settings.topics.dlq, key=key, value=orjson.dumps(record), reason=reason,
            context={"instance": instance.id, "resource": self.name, "element": instance.element_key},
        )

    def drain(self) -> list[OutgoingRecord]:
        """The buffered events (by date) and dead letters as records; the buffer is emptied."""
        self.buffer.sort(key=lambda e: e.classification.date)
        topic = self.ctx.settings.topics.events
        records = [event_record(topic, e.event) for e in self.buffer]
        for e in self.buffer:
            self.emitted_boundary.add((e.classification.object_id, e.classification.date))
            self.by_type[e.event.event_type.value] = self.by_type.get(e.event.event_type.value, 0) + 1
            if self.newest is None or e.classification.date > self.newest:
                self.newest = e.classification.date
        records += self.dead
        self.events += len(self.buffer)
        self.dead_letters += len(self.dead)
        self.buffer, self.dead = [], []
        return records

    def forget_uncommitted(self) -> None:
        """Drop what was emitted into an aborted transaction: it must neither be counted nor enter the boundary."""
        self.emitted_boundary.clear()
        self.by_type.clear()
        self.events = self.dead_letters = 0
        self.newest = None

    def count_committed(self) -> None:
        """Count the committed events and dead letters (only acknowledged ones are counted)."""
        metrics = self.ctx.metrics
        for event_type, count in self.by_type.items():
            metrics.events_published.labels("polling", event_type).inc(count)
        if self.dead_letters:
            metrics.dlq_records.labels("polling", "normalization").inc(self.dead_letters)

    def next_cursor(self, outcome: Outcome, error: str | None, *, advance_to: datetime | None) -> Cursor:
        """The cursor this poll commits: moved to `advance_to` with the boundary pruned, or kept in place.

        Kept in place, the boundary still gains what was emitted (a page-capped newest-first read).
        """
        previous = self.cursor
        failures = 0 if outcome != "failed" else (previous.status.consecutive_failures if previous else 0) + 1
        status = CursorStatus(
            last_outcome=outcome, last_error=error, last_polled_at=self.end, consecutive_failures=failures,
        )
        instance_id = self.resolved.instance.id
        boundary = self.boundary | self.emitted_boundary
        if advance_to is None:
            last_poll_at = previous.last_poll_at if previous else None
            if last_poll_at is None and self.emitted_boundary:
                # Never committed before: the next window must start where this one did.
                last_poll_at = self.start + self.resource.poll_delay
        else:
            last_poll_at = advance_to
        if last_poll_at is not None:
            next_start = floor_to_precision(last_poll_at - self.resource.poll_delay, self.resource)
            boundary = set(prune_boundary(boundary, next_start))
        return Cursor(
            instance_id=instance_id, resource=self.name, last_poll_at=last_poll_at,
            boundary=sorted(boundary, key=lambda pair: (pair[1], pair[0])), status=status,
        )

    def page_capped_position(self) -> datetime | None:
        """Where a page-capped read may move the cursor without skipping the pages it did not read.

        Oldest-first: the unread pages hold records at or after the newest one read, so the next window starts
        there. Newest-first (or nothing read): the cursor stays; the boundary keeps what was emitted.
        """
        if self.resource.newest_first or self.newest is None:
            return None
        return min(self.end, self.newest + self.resource.poll_delay)


async def _read_and_commit(poll: _Poll) -> Cursor | None:
    """Read every page, then commit the events, dead letters and new cursor; None when the instance went away.

    Raises:
        _Abandoned: the read failed after pages were streamed into an exclusive transaction (now aborted).
        PublishError: the transaction did not commit.
    """
    ctx = poll.ctx
    async with contextlib.AsyncExitStack() as stack:
        try:
            async with page_reader(ctx.client.pages(poll.request()), ahead=not poll.resource.newest_first) as pages:
                async for page in pages:
                    # all() stops at the first False: a newest-first read ends at its first old record.
                    go_on = all(poll.take(record) for record in page.records)
                    if len(poll.buffer) >= ctx.settings.polling.max_buffered_events:
                        if poll.stream is None:
                            poll.stream = await stack.enter_async_context(ctx.committer.exclusive())
                        await poll.stream.send(poll.drain())
                    if not go_on:
                        break
        except PageCapError as exc:
            poll.outcome, poll.error = "page_cap", str(exc)
        except (UpstreamError, ConfigError, PlaceholderError) as exc:
            poll.outcome, poll.error = "failed", str(exc)[:_MAX_ERROR_CHARS]
        if poll.outcome == "failed" and poll.stream is not None:
            raise _Abandoned  # leaving the exclusive transaction with an exception aborts it
        if poll.outcome == "failed":
            new_cursor = poll.next_cursor(poll.outcome, poll.error, advance_to=None)
            records: list[OutgoingRecord] = []
        else:
            records = poll.drain()
            advance_to = poll.end if poll.outcome == "ok" else poll.page_capped_position()
            new_cursor = poll.next_cursor(poll.outcome, poll.error, advance_to=advance_to)
        records.append(cursor_record(ctx.settings.topics.cursors, ctx.partition, new_cursor))
        if not poll.alive():
            if poll.stream is not None:
                raise PublishError(f"instance {poll.resolved.instance.id} changed during the poll of {poll.name}")
            return None
        if poll.stream is not None:
            await poll.stream.send(records)
        else:
            await ctx.committer.commit(records)
    return new_cursor


async def run_poll(
    ctx: PollContext,
    resolved: ResolvedInstance,
    name: str,
    resource: ResourceConfig,
    cursor: Cursor | None,
    *,
    now: datetime,
    alive: Callable[[], bool],
) -> Cursor | None:
    """Poll `resource` of `resolved` once and commit its events and new cursor; return the committed cursor.

    Returns None when nothing was committed because the instance or resource went away meanwhile.

    Raises:
        PublishError: the transaction did not commit; nothing of the poll is visible and the cursor is unchanged.
    """
    poll = _Poll(ctx, resolved, name, resource, cursor, now, alive)
    started = time.perf_counter()
    try:
        new_cursor = await _read_and_commit(poll)
    except _Abandoned:
        # Nothing of the aborted transaction is visible: forget what it held, keep the cursor where it was.
        poll.forget_uncommitted()
        new_cursor = poll.next_cursor("failed", poll.error, advance_to=None)
        if not alive():
            return None
        await ctx.committer.commit([cursor_record(ctx.settings.topics.cursors, ctx.partition, new_cursor)])
    if new_cursor is None:
        return None
    element, outcome, error = resolved.element.key, poll.outcome, poll.error
    poll.count_committed()
    ctx.metrics.polls.labels(element, name, outcome).inc()
    ctx.metrics.poll_duration.labels(element).observe(time.perf_counter() - started)
    log.info(
        "poll %s", outcome,
        extra={**poll.where, "events": poll.events, "start": poll.start.isoformat(), "error": error},
    )
    return new_cursor
