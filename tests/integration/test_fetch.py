"""ProviderClient against the fake provider on 127.0.0.1: pagination, retries, rate limits, host rule, cap."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import random
import re
import sys
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from service.errors import ConfigError, UpstreamError
from service.metrics import Metrics
from service.polling.auth import BearerAuth, QueryKeyAuth
from service.polling.fetch import FetchRequest, Page, PageCapError, ProviderClient, RetryPolicy, Timeouts
from service.polling.paginate import (
    CursorPagination,
    HubPagination,
    LinkPagination,
    NextUrlPagination,
    OffsetPagination,
    PagePagination,
    Pagination,
)
from tests.fake_provider import FakeProvider, FakeRecord, Fault, make_records

SECRET = "k3y-Sup3r-s3cret"


class SleepRecorder:
    """Stands in for asyncio.sleep: records the waits, does not wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
async def client(sleeps: SleepRecorder, metrics: Metrics) -> AsyncIterator[ProviderClient]:
    async with ProviderClient(metrics=metrics, sleep=sleeps, rng=random.Random(7), limit_per_host=1) as c:
        yield c


def request(provider: FakeProvider, **overrides: Any) -> FetchRequest:
    fields: dict[str, Any] = {
        "element_key": "democrm",
        "instance_id": "crm-1",
        "resource": "contacts",
        "base_url": provider.base_url + "/api",
        "url": "/contacts",
        "pagination": provider.pagination,
        "page_size": 5,
        "records_path": provider.records_path,
        "retry": RetryPolicy(max_attempts=3, base_delay=0.1, max_delay=1.0, max_retry_after=5.0),
        "timeouts": Timeouts(connect=2.0, total=2.0),
    }
    fields.update(overrides)
    return FetchRequest(**fields)


async def read_all(client: ProviderClient, req: FetchRequest) -> list[Page]:
    return [page async for page in client.pages(req)]


async def read_into(seen: list[Page], client: ProviderClient, req: FetchRequest) -> None:
    """Read every page into `seen`, which keeps the pages yielded before an error."""
    async for page in client.pages(req):
        seen.append(page)  # noqa: PERF401 - a comprehension would lose the pages read before the error


def sample(metrics: Metrics, name: str, labels: dict[str, str]) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


STYLES: list[tuple[Pagination, str | None]] = [
    (HubPagination(), None),
    (PagePagination(page_size_param="per_page"), None),
    (OffsetPagination(), "data"),
    (CursorPagination(cursor_path="meta.next_cursor"), "data"),
    (LinkPagination(), None),
    (NextUrlPagination(next_url_path="paging.next"), "results"),
]


@pytest.mark.parametrize(("style", "records_path"), STYLES, ids=[s.style for s, _ in STYLES])
async def test_every_style_reads_every_record_once(
    client: ProviderClient, style: Pagination, records_path: str | None,
) -> None:
    async with FakeProvider(make_records(23), pagination=style, records_path=records_path) as provider:
        pages = await read_all(client, request(provider))
    ids = [record["id"] for page in pages for record in page.records]
    assert ids == [f"r{n}" for n in range(1, 24)]
    assert [page.number for page in pages] == [1, 2, 3, 4, 5]
    assert [len(page.records) for page in pages] == [5, 5, 5, 5, 3]
    assert all(page.status == 200 for page in pages)
    # Five pages, five requests: no request past a short last page, none repeated.
    assert len(provider.requests) == 5
    assert {r.path for r in provider.requests} == {"/api/contacts"}


async def test_records_wrapped_in_the_resource_key_are_found(client: ProviderClient) -> None:
    style = CursorPagination()
    async with FakeProvider(make_records(7), pagination=style) as provider:
        pages = await read_all(client, request(provider, records_path=None))
    assert [r["id"] for p in pages for r in p.records] == [f"r{n}" for n in range(1, 8)]


async def test_absolute_links_on_the_same_host_are_followed(client: ProviderClient) -> None:
    async with FakeProvider(make_records(12), pagination=LinkPagination(), absolute_links=True) as provider:
        pages = await read_all(client, request(provider))
    assert sum(len(p.records) for p in pages) == 12


async def test_rendered_query_and_paging_parameters_reach_the_provider(client: ProviderClient) -> None:
    records = make_records(6)
    async with FakeProvider(records, since_param="modified_since") as provider:
        since = int(records[3].updated.timestamp() * 1000)
        pages = await read_all(client, request(provider, url=f"/contacts?modified_since={since}"))
    assert [r["id"] for p in pages for r in p.records] == ["r4", "r5", "r6"]
    assert provider.requests[0].query == {"modified_since": str(since), "pageSize": "5"}


async def test_bearer_token_is_sent(client: ProviderClient) -> None:
    auth = BearerAuth(token=SECRET)  # type: ignore[arg-type]
    async with FakeProvider(make_records(3), require_headers={"Authorization": f"Bearer {SECRET}"}) as provider:
        pages = await read_all(client, request(provider, auth=auth))
        assert len(pages[0].records) == 3
        with pytest.raises(UpstreamError) as caught:
            await read_all(client, request(provider))
    assert caught.value.status == 401
    assert not caught.value.retriable
    assert "instance crm-1 resource contacts" in str(caught.value)
    assert "unauthorized" in str(caught.value)


async def test_429_retry_after_seconds_is_obeyed_and_counted(
    client: ProviderClient, sleeps: SleepRecorder, metrics: Metrics,
) -> None:
    faults = {2: Fault(status=429, retry_after="1", body="slow down")}
    async with FakeProvider(make_records(8), faults=faults) as provider:
        pages = await read_all(client, request(provider))
    assert sum(len(p.records) for p in pages) == 8
    assert sleeps.waits == [1.0]
    # The retried request asks for the same page again.
    assert provider.requests[1].query == provider.requests[2].query
    assert sample(metrics, "connector_events_rate_limit_waits_total", {"element": "democrm"}) == 1
    assert sample(metrics, "connector_events_rate_limit_wait_seconds_total", {"element": "democrm"}) == 1.0
    assert sample(metrics, "connector_events_provider_responses_total",
                  {"element": "democrm", "status_class": "4xx"}) == 1
    assert sample(metrics, "connector_events_provider_responses_total",
                  {"element": "democrm", "status_class": "2xx"}) == 2


async def test_real_retry_after_wait_is_measured() -> None:
    faults = {1: Fault(status=429, retry_after="1")}
    async with FakeProvider(make_records(2), faults=faults) as provider, ProviderClient() as client:
        await read_all(client, request(provider))
    gap = provider.requests[1].at - provider.requests[0].at
    assert 1.0 <= gap < 2.0


async def test_503_retry_after_http_date_is_obeyed() -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    sleeps = SleepRecorder()
    faults = {1: Fault(status=503, retry_after="Sun, 01 Mar 2026 12:00:03 GMT")}
    async with (
        FakeProvider(make_records(2), faults=faults) as provider,
        ProviderClient(sleep=sleeps, clock=lambda: now) as client,
    ):
        await read_all(client, request(provider))
    assert sleeps.waits == [3.0]


async def test_retry_after_longer_than_the_cap_waits_the_cap(client: ProviderClient, sleeps: SleepRecorder) -> None:
    async with FakeProvider(make_records(2), faults={1: Fault(status=429, retry_after="3600")}) as provider:
        await read_all(client, request(provider))
    assert sleeps.waits == [5.0]


async def test_500_then_200_is_retried_with_jittered_backoff(client: ProviderClient, sleeps: SleepRecorder) -> None:
    async with FakeProvider(make_records(3), faults={1: Fault(status=500), 2: Fault(status=502)}) as provider:
        pages = await read_all(client, request(provider))
    assert len(pages[0].records) == 3
    assert len(sleeps.waits) == 2
    assert 0 <= sleeps.waits[0] <= 0.1
    assert 0 <= sleeps.waits[1] <= 0.2


async def test_500_forever_fails_after_max_attempts(
    client: ProviderClient, sleeps: SleepRecorder, metrics: Metrics,
) -> None:
    faults = {n: Fault(status=500, body="database on fire") for n in range(1, 10)}
    async with FakeProvider(make_records(3), faults=faults) as provider:
        with pytest.raises(UpstreamError) as caught:
            await read_all(client, request(provider))
    assert len(provider.requests) == 3
    assert len(sleeps.waits) == 2
    error = caught.value
    assert error.status == 500
    assert error.retriable
    assert "instance crm-1 resource contacts" in str(error)
    assert "HTTP 500: database on fire (gave up after 3 attempts)" in str(error)
    assert sample(metrics, "connector_events_provider_responses_total",
                  {"element": "democrm", "status_class": "5xx"}) == 3


@pytest.mark.parametrize("status", [400, 404, 501])
async def test_client_errors_and_501_fail_at_once(client: ProviderClient, status: int) -> None:
    async with FakeProvider(faults={1: Fault(status=status, body="x" * 1000)}) as provider:
        with pytest.raises(UpstreamError) as caught:
            await read_all(client, request(provider))
    assert len(provider.requests) == 1
    assert caught.value.status == status
    assert not caught.value.retriable
    # A short excerpt of the body, not all of it.
    assert "x" * 200 in str(caught.value)
    assert "x" * 201 not in str(caught.value)


async def test_timeout_is_retried(client: ProviderClient) -> None:
    async with FakeProvider(make_records(3), faults={1: Fault(delay=2.0)}) as provider:
        pages = await read_all(client, request(provider, timeouts=Timeouts(connect=1.0, total=0.3)))
    assert len(pages[0].records) == 3
    assert len(provider.requests) == 2


async def test_timeout_forever_fails(client: ProviderClient, metrics: Metrics) -> None:
    faults = {n: Fault(delay=2.0) for n in (1, 2)}
    async with FakeProvider(faults=faults) as provider:
        req = request(provider, retry=RetryPolicy(max_attempts=2), timeouts=Timeouts(total=0.3))
        with pytest.raises(UpstreamError, match=r"no complete response within 0.3s \(gave up after 2 attempts\)"):
            await read_all(client, req)
    assert sample(metrics, "connector_events_provider_responses_total",
                  {"element": "democrm", "status_class": "error"}) == 2


async def test_truncated_json_is_retried(client: ProviderClient) -> None:
    async with FakeProvider(make_records(4), faults={1: Fault(truncate=True)}) as provider:
        pages = await read_all(client, request(provider))
    assert len(pages[0].records) == 4


async def test_truncated_json_every_time_is_an_upstream_error(client: ProviderClient) -> None:
    faults = {n: Fault(truncate=True) for n in range(1, 4)}
    async with FakeProvider(make_records(4), faults=faults) as provider:
        with pytest.raises(UpstreamError, match="invalid JSON") as caught:
            await read_all(client, request(provider))
    assert caught.value.retriable
    assert len(provider.requests) == 3


async def test_record_that_is_not_an_object_names_its_position(client: ProviderClient) -> None:
    faults = {1: Fault(status=200, body='[{"id": "a"}, "b"]')}
    async with FakeProvider(faults=faults) as provider:
        with pytest.raises(UpstreamError, match=r"page 1 from .*: record at index 1 is a str") as caught:
            await read_all(client, request(provider))
    assert not caught.value.retriable


async def test_bad_dates_pass_through_untouched(client: ProviderClient) -> None:
    # Dates are the date engine's business: the client hands the record over as the provider sent it.
    async with FakeProvider(make_records(2), faults={1: Fault(bad_date=True)}) as provider:
        pages = await read_all(client, request(provider))
    assert pages[0].records[0]["lastModifiedDate"] == "not a date"


@pytest.mark.parametrize(
    ("style", "fault"),
    [
        (LinkPagination(), Fault(link_override='<http://evil.example/steal?page=2>; rel="next"')),
        (NextUrlPagination(), Fault(next_url_override="http://127.0.0.1:1/api/contacts?page=2")),
        (NextUrlPagination(), Fault(next_url_override="//evil.example/api/contacts")),
    ],
)
async def test_next_page_on_another_host_is_refused(
    client: ProviderClient, style: Pagination, fault: Fault,
) -> None:
    seen: list[Page] = []
    auth = QueryKeyAuth(param="api_key", key=SECRET)  # type: ignore[arg-type]
    async with FakeProvider(make_records(12), pagination=style, records_path="data", faults={1: fault}) as provider:
        with pytest.raises(UpstreamError, match=r"page 2 URL .* leaves the base URL host") as caught:
            await read_into(seen, client, request(provider, auth=auth))
    assert [p.number for p in seen] == [1]
    assert len(provider.requests) == 1
    assert not caught.value.retriable
    assert SECRET not in str(caught.value)


async def test_resource_url_on_another_host_is_a_config_error(client: ProviderClient) -> None:
    async with FakeProvider(make_records(1)) as provider:
        with pytest.raises(ConfigError, match="outside the base URL host"):
            await read_all(client, request(provider, url="https://elsewhere.example/contacts"))
    assert provider.requests == []


async def test_page_cap_keeps_the_pages_read(client: ProviderClient) -> None:
    seen: list[Page] = []
    async with FakeProvider(make_records(23)) as provider:
        with pytest.raises(PageCapError, match="page cap 2 hit") as caught:
            await read_into(seen, client, request(provider, max_pages=2))
        assert [p.number for p in seen] == [1, 2]
        assert caught.value.cap == 2
        assert not caught.value.retriable
        assert len(provider.requests) == 2
        # A cap equal to the page count is not hit.
        assert len(await read_all(client, request(provider, page_size=23, max_pages=1))) == 1


async def test_early_break_leaves_no_connection_held(client: ProviderClient) -> None:
    async with FakeProvider(make_records(23)) as provider:
        async with aclosing(client.pages(request(provider))) as pages:
            async for page in pages:
                assert page.number == 1
                break
        assert len(provider.requests) == 1
        # The client allows one connection per host: a response left open would block this read forever.
        async with asyncio.timeout(5):
            assert len(await read_all(client, request(provider))) == 5


async def test_secrets_are_redacted_in_page_urls_errors_and_logs(
    client: ProviderClient, caplog: pytest.LogCaptureFixture,
) -> None:
    auth = QueryKeyAuth(param="api_key", key=SECRET)  # type: ignore[arg-type]
    faults = {2: Fault(status=500, body=f"bad key {SECRET}"), 3: Fault(status=403, body=f"key {SECRET} revoked")}
    caplog.set_level(logging.DEBUG)
    async with FakeProvider(make_records(8), require_query={"api_key": SECRET}, faults=faults) as provider:
        seen: list[Page] = []
        with pytest.raises(UpstreamError) as caught:
            await read_into(seen, client, request(provider, auth=auth))
    assert provider.requests[0].query["api_key"] == SECRET
    assert "api_key=REDACTED" in seen[0].url
    assert SECRET not in seen[0].url
    assert caught.value.status == 403
    assert "key REDACTED revoked" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)
    assert SECRET not in caplog.text
    assert "bad key REDACTED" in caplog.text


async def test_pagination_loop_is_stopped(client: ProviderClient) -> None:
    style = NextUrlPagination()
    # The second page names itself as the next page.
    faults = {2: Fault(next_url_override="/api/contacts?limit=5&page=2")}
    async with FakeProvider(make_records(30), pagination=style, records_path="data", faults=faults) as provider:
        with pytest.raises(UpstreamError, match="pagination loop"):
            await read_all(client, request(provider))
    assert len(provider.requests) == 2


async def test_late_visible_records_appear_when_their_time_comes(client: ProviderClient) -> None:
    now = [1000.0]
    late = FakeRecord(id="late", created=datetime(2026, 1, 1, tzinfo=UTC), updated=datetime(2026, 1, 1, tzinfo=UTC),
                      visible_after=1005.0)
    async with FakeProvider([*make_records(2), late], clock=lambda: now[0]) as provider:
        before = await read_all(client, request(provider))
        now[0] = 1005.0
        after = await read_all(client, request(provider))
    assert [r["id"] for r in before[0].records] == ["r1", "r2"]
    assert [r["id"] for r in after[0].records] == ["late", "r1", "r2"]


async def test_lifecycle() -> None:
    client = ProviderClient()
    with pytest.raises(RuntimeError, match="not started"):
        await anext(client.pages(FetchRequest(element_key="e", instance_id="i", resource="r",
                                              base_url="http://127.0.0.1:1", url="/r")))
    await client.start()
    with pytest.raises(RuntimeError, match="already started"):
        await client.start()
    await client.stop()
    await client.stop()


def test_base_url_must_be_absolute_http() -> None:
    with pytest.raises(ValueError, match="absolute http"):
        FetchRequest(element_key="e", instance_id="i", resource="r", base_url="/relative", url="/r")


def load_crm() -> ModuleType:
    """Import deploy/demo/crm.py by path (deploy/ is not a package)."""
    path = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "crm.py"
    spec = importlib.util.spec_from_file_location("demo_crm", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("demo_crm", module)
    spec.loader.exec_module(module)
    return module


crm = load_crm()


@pytest.fixture
async def crm_server() -> AsyncIterator[tuple[str, Any]]:
    clock = [datetime(2026, 2, 3, 17, 0, tzinfo=UTC)]
    state = crm.CrmState(seed=3, clock=lambda: clock[0])
    state.seed_history(12, 6)
    runner = web.AppRunner(crm.build_app(rate=0, token=SECRET, state=state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/api", state
    finally:
        await runner.cleanup()


def crm_request(base_url: str, **overrides: Any) -> FetchRequest:
    fields: dict[str, Any] = {
        "element_key": "democrm", "instance_id": "crm-demo", "resource": "contacts", "base_url": base_url,
        "url": "/contacts", "auth": BearerAuth(token=SECRET), "page_size": 5,  # type: ignore[arg-type]
    }
    fields.update(overrides)
    return FetchRequest(**fields)


async def test_demo_crm_contacts_by_where_clause_and_hub_pages(
    client: ProviderClient, crm_server: tuple[str, Any],
) -> None:
    base_url, state = crm_server
    contacts = state.contacts_since(None)
    since = crm.iso_millis(contacts[4].updated)
    req = crm_request(base_url, url=f"/contacts?where=lastModifiedDate>='{since}'")
    pages = await read_all(client, req)
    assert [r["id"] for p in pages for r in p.records] == [c.id for c in contacts[4:]]
    assert [len(p.records) for p in pages] == [5, 3]
    # An update moves the contact after every other change; modified_since finds it alone.
    state.clock = lambda: datetime(2026, 2, 3, 18, 0, tzinfo=UTC)
    state.update("contact", contacts[0].id, {"phone": "+1-555-0100"})
    millis = int(datetime(2026, 2, 3, 18, 0, tzinfo=UTC).timestamp() * 1000)
    updated = await read_all(client, crm_request(base_url, url=f"/contacts?modified_since={millis}"))
    assert [(r["id"], r["phone"], r["lastModifiedDate"]) for p in updated for r in p.records] == [
        (contacts[0].id, "+1-555-0100", "2026-02-03T18:00:00.000Z"),
    ]


async def test_demo_crm_deals_newest_first_by_page_number(
    client: ProviderClient, crm_server: tuple[str, Any],
) -> None:
    base_url, state = crm_server
    req = crm_request(base_url, resource="deals", url="/deals", page_size=4,
                      pagination=PagePagination(page_size_param="per_page"))
    pages = await read_all(client, req)
    records = [r for p in pages for r in p.records]
    assert [r["id"] for r in records] == [d.id for d in state.deals_newest_first()]
    # 17:00 UTC is 09:00 in Los Angeles in February (PST, -0800).
    newest = records[0]
    assert newest["updated_at"].endswith(" -0800")
    assert re.fullmatch(r"\d\d/\d\d/2026 \d\d:\d\d:\d\d", newest["created_at"])


async def test_demo_crm_refuses_a_wrong_token(client: ProviderClient, crm_server: tuple[str, Any]) -> None:
    base_url, _ = crm_server
    with pytest.raises(UpstreamError, match="HTTP 401") as caught:
        await read_all(client, crm_request(base_url, auth=BearerAuth(token="wrong-token")))  # type: ignore[arg-type]
    assert not caught.value.retriable


def test_demo_crm_is_deterministic_for_a_seed() -> None:
    at = datetime(2026, 2, 3, tzinfo=UTC)
    runs = []
    for _ in range(2):
        state = crm.CrmState(seed=11, clock=lambda: at)
        state.seed_history(4, 2)
        changes = [state.step() for _ in range(20)]
        runs.append((changes, [crm.render_contact(r) for r in state.contacts_since(None)]))
    assert runs[0] == runs[1]
    assert len({c[2] for c in runs[0][0]}) > 3
