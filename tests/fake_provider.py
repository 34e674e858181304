"""A configurable fake provider API for tests: an aiohttp server over an in-memory record list.

It serves every pagination style of `service.polling.paginate` (reading the parameter names from the same
model the client gets), injects faults by request number, hides records until their `visible_after` time, checks
credentials, and logs every request so tests can assert what was called.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self

import orjson
from aiohttp import web
from yarl import URL

from service.polling.paginate import (
    CursorPagination,
    HubPagination,
    LinkPagination,
    NextUrlPagination,
    OffsetPagination,
    PagePagination,
    Pagination,
)

DateFormat = Callable[[datetime], Any]


def iso_millis(value: datetime) -> str:
    """`2026-01-01T00:00:00.000Z`, the Open Connectors date format."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch, as a number."""
    return int(value.timestamp() * 1000)


@dataclass(slots=True)
class FakeRecord:
    """One record of the fake resource.

    Attributes:
        id: the record id (`id` in the body).
        created: rendered at `created_field` with the provider's date format.
        updated: rendered at `updated_field`; the sort and `since` filter key.
        fields: further fields of the record.
        visible_after: a `clock()` time before which the record is not served (a late-visible record).
    """

    id: str
    created: datetime
    updated: datetime
    fields: dict[str, Any] = field(default_factory=dict)
    visible_after: float = 0.0


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do instead of (or to) the normal answer of one request.

    Attributes:
        status: answer with this status (and `body`) instead of the page.
        retry_after: the `Retry-After` header value sent with `status`.
        body: the body sent with `status`.
        delay: seconds to wait before answering (longer than the client timeout: a timeout).
        truncate: send the page's JSON cut in half.
        bad_date: the first record on the page gets an unparseable updated date.
        link_override: for the `link` style, send this `Link` header instead (for example another host).
        next_url_override: for the `next_url` style, send this next URL instead.
    """

    status: int | None = None
    retry_after: str | None = None
    body: str = ""
    delay: float = 0.0
    truncate: bool = False
    bad_date: bool = False
    link_override: str | None = None
    next_url_override: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request the fake received.

    Attributes:
        number: 1 for the first request.
        at: `time.monotonic()` when it arrived.
        path: the URL path.
        query: the query parameters (last value wins).
        headers: the request headers.
    """

    number: int
    at: float
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class FakeProvider:
    """An aiohttp server playing a provider resource; `start()` returns its base URL on 127.0.0.1."""

    def __init__(
        self,
        records: list[FakeRecord] | None = None,
        *,
        resource: str = "contacts",
        pagination: Pagination | None = None,
        records_path: str | None = None,
        max_page_size: int = 100,
        date_format: DateFormat = iso_millis,
        created_field: str = "createdDate",
        updated_field: str = "lastModifiedDate",
        order: Literal["oldest_first", "newest_first"] = "oldest_first",
        since_param: str | None = None,
        require_headers: Mapping[str, str] | None = None,
        require_query: Mapping[str, str] | None = None,
        absolute_links: bool = False,
        faults: Mapping[int, Fault] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Configure the fake; see the attributes of `FakeRecord` and `Fault` for the knobs' meaning.

        Args:
            records: the records served (more can be added with `add`).
            resource: the resource name, the wrapping key when a body must be an object and no path is set.
            pagination: the style served, with the client's parameter names (default hub).
            records_path: dotted path the record array is nested at; None serves a bare array when the style
                allows it.
            max_page_size: the largest page served whatever the client asks.
            date_format: renders dates.
            created_field: the created-date field name.
            updated_field: the updated-date field name.
            order: the record order by updated date.
            since_param: a query parameter (ISO-8601 or epoch ms) filtering on `updated >=` it.
            require_headers: headers a request must carry (else 401).
            require_query: query parameters a request must carry (else 401).
            absolute_links: `link`/`next_url` targets as absolute URLs rather than relative ones.
            faults: request number (1-based) -> fault.
            clock: the time `visible_after` is compared with.
        """
        self.records = list(records or [])
        self.resource = resource
        self.pagination: Pagination = pagination or HubPagination()
        self.records_path = records_path
        self.max_page_size = max_page_size
        self.date_format = date_format
        self.created_field = created_field
        self.updated_field = updated_field
        self.order = order
        self.since_param = since_param
        self.require_headers = dict(require_headers or {})
        self.require_query = dict(require_query or {})
        self.absolute_links = absolute_links
        self.faults: dict[int, Fault] = dict(faults or {})
        self.clock = clock
        self.requests: list[LoggedRequest] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def add(self, record: FakeRecord) -> None:
        """Add a record (visible from its `visible_after`)."""
        self.records.append(record)

    def app(self) -> web.Application:
        """Return the aiohttp application (every path serves the resource)."""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        return app

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1 and return the base URL (`http://127.0.0.1:PORT`)."""
        # A short shutdown: a handler sleeping through an injected delay must not hold up the test's teardown.
        self._runner = web.AppRunner(
            self.app(), shutdown_timeout=0.5, handler_cancellation=True, access_log=None,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening; idempotent."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        number = len(self.requests) + 1
        query = dict(request.query)
        self.requests.append(
            LoggedRequest(number, time.monotonic(), request.path, query, dict(request.headers)),
        )
        fault = self.faults.get(number, Fault())
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return web.Response(status=fault.status, text=fault.body, headers=headers)
        if any(request.headers.get(k) != v for k, v in self.require_headers.items()) or any(
            query.get(k) != v for k, v in self.require_query.items()
        ):
            return web.json_response({"error": "unauthorized"}, status=401)
        return self._page(request, query, fault)

    def _page(self, request: web.Request, query: dict[str, str], fault: Fault) -> web.Response:
        style = self.pagination
        size = self.max_page_size
        if style.page_size_param and style.page_size_param in query:
            size = min(int(query[style.page_size_param]), self.max_page_size)
        start = self._start(style, query, size)
        visible = self._visible(query)
        chunk = visible[start : start + size]
        more = start + size < len(visible)
        rendered = [self._render(r) for r in chunk]
        if fault.bad_date and rendered:
            rendered[0][self.updated_field] = "not a date"

        headers: dict[str, str] = {}
        extra: dict[str, Any] = {}
        if isinstance(style, HubPagination) and more:
            headers[style.next_page_header] = _token(start + size)
        elif isinstance(style, CursorPagination):
            extra[style.cursor_path] = _token(start + size) if more else None
        elif isinstance(style, LinkPagination):
            links = [f'<{self._page_link(request, 1)}>; rel="first"']
            if more:
                # Several links, a quoted rel list and a comma inside a quoted parameter: what parsers trip on.
                links.append(f'<{self._page_link(request, start // size + 2)}>; rel="next"; title="next, page"')
            headers["Link"] = fault.link_override or ", ".join(links)
        elif isinstance(style, NextUrlPagination):
            target = self._page_link(request, start // size + 2) if more else None
            extra[style.next_url_path] = fault.next_url_override or target

        body = self._body(rendered, extra)
        raw = orjson.dumps(body)
        if fault.truncate:
            raw = raw[: len(raw) // 2]
        return web.Response(body=raw, content_type="application/json", headers=headers)

    def _start(self, style: Pagination, query: dict[str, str], size: int) -> int:
        if isinstance(style, HubPagination) and style.next_page_param in query:
            return _offset(query[style.next_page_param])
        if isinstance(style, CursorPagination) and style.cursor_param in query:
            return _offset(query[style.cursor_param])
        if isinstance(style, PagePagination):
            return (int(query.get(style.page_param, style.first_page)) - style.first_page) * size
        if isinstance(style, OffsetPagination):
            return int(query.get(style.offset_param, style.first_offset))
        if isinstance(style, LinkPagination | NextUrlPagination):
            return (int(query.get("page", "1")) - 1) * size
        return 0

    def _visible(self, query: dict[str, str]) -> list[FakeRecord]:
        now = self.clock()
        records = [r for r in self.records if r.visible_after <= now]
        if self.since_param and self.since_param in query:
            since = _parse_since(query[self.since_param])
            records = [r for r in records if r.updated >= since]
        records.sort(key=lambda r: (r.updated, r.id), reverse=self.order == "newest_first")
        return records

    def _render(self, record: FakeRecord) -> dict[str, Any]:
        return {
            "id": record.id,
            self.created_field: self.date_format(record.created),
            self.updated_field: self.date_format(record.updated),
            **record.fields,
        }

    def _page_link(self, request: web.Request, page: int) -> str:
        url = request.rel_url.update_query({"page": str(page)})
        return str(URL(self.base_url).join(url)) if self.absolute_links else str(url)

    def _body(self, records: list[dict[str, Any]], extra: dict[str, Any]) -> Any:
        path = self.records_path
        if path is None and not extra:
            return records
        body: dict[str, Any] = {}
        _nest(body, path or self.resource, records)
        for key, value in extra.items():
            _nest(body, key, value)
        return body


def _nest(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for step in parents:
        body = body.setdefault(step, {})
    body[last] = value


def _token(offset: int) -> str:
    # Opaque like a real provider's, with characters (`=`, `/`, `+`) a client must encode.
    return base64.b64encode(f"offset:{offset}:{'~' * 3}".encode()).decode()


def _offset(token: str) -> int:
    return int(base64.b64decode(token).decode().split(":")[1])


def _parse_since(value: str) -> datetime:
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def make_records(count: int, *, start: datetime | None = None, step_seconds: int = 60) -> list[FakeRecord]:
    """Return `count` records `r1..rN`, created and updated `step_seconds` apart from `start`."""
    first = start or datetime(2026, 1, 1, tzinfo=UTC)
    records = []
    for n in range(1, count + 1):
        when = datetime.fromtimestamp(first.timestamp() + n * step_seconds, UTC)
        records.append(FakeRecord(id=f"r{n}", created=when, updated=when, fields={"name": f"record {n}"}))
    return records
