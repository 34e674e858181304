"""The poller's provider HTTP client: reads a resource page by page with retries, rate-limit waits and auth.

Every URL it follows must stay on the instance's base URL host, and a read stops at a page cap.

`ProviderClient` owns one shared `aiohttp.ClientSession`; `pages()` yields one parsed `Page` at a time and holds
no response open while the caller handles it, so breaking out of the loop leaks nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import orjson
from yarl import URL

from service.errors import ConfigError, UpstreamError
from service.lifecycle import Component
from service.metrics import Metrics
from service.polling.auth import Redactor
from service.polling.paginate import (
    PageRequest,
    PageShapeError,
    extract_records,
    first_request,
    next_request,
)
from service.polling.request import FetchRequest, Page, PageCapError, RetryPolicy, Timeouts

__all__ = ["FetchRequest", "Page", "PageCapError", "ProviderClient", "RetryPolicy", "Timeouts"]

log = logging.getLogger(__name__)

_EXCERPT_CHARS = 200


@dataclass(frozen=True, slots=True)
class _Attempt:
    """Why one try failed and whether (and after what wait) it may be tried again."""

    message: str
    status: int | None
    retriable: bool
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class _Read:
    """What every request of one read shares."""

    req: FetchRequest
    session: aiohttp.ClientSession
    headers: Mapping[str, str]
    redactor: Redactor
    timeout: aiohttp.ClientTimeout


Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ProviderClient(Component):
    """Reads provider resources over one shared HTTP session.

    `start()` opens the session (connection pool bounded by `limit` and `limit_per_host`); `stop()` closes it and
    is idempotent. `pages()` raises `UpstreamError` (HTTP error after retries, timeout, bad JSON, bad body shape,
    a URL leaving the base host), `PageCapError`, and `ConfigError` (unresolvable auth, a resource URL outside
    the base host).
    """

    def __init__(
        self,
        *,
        metrics: Metrics | None = None,
        limit: int = 100,
        limit_per_host: int = 10,
        max_body_bytes: int = 32 * 1024 * 1024,
        user_agent: str = "connector-events",
        sleep: Sleep = asyncio.sleep,
        clock: Clock = _utc_now,
        rng: random.Random | None = None,
    ) -> None:
        """Configure the client; nothing is opened before `start()`.

        Args:
            metrics: where responses, rate-limit waits and records are counted; None counts nothing.
            limit: open connections in total.
            limit_per_host: open connections per provider host (be polite to one provider).
            max_body_bytes: the largest page body read; a larger one fails the page.
            user_agent: the `User-Agent` header.
            sleep: awaited for backoff and rate-limit waits (tests inject a recorder).
            clock: the current UTC time, for `Retry-After` HTTP dates.
            rng: jitter source (tests inject a seeded one).
        """
        self._metrics = metrics
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._max_body_bytes = max_body_bytes
        self._user_agent = user_agent
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the shared session.

        Raises:
            RuntimeError: the client was started before.
        """
        self._claim_start()
        connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit_per_host)
        self._session = aiohttp.ClientSession(
            connector=connector,
            # One session serves every instance: a shared cookie jar would carry one account's provider session
            # into another account's requests on the same host.
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": self._user_agent, "Accept": "application/json"},
            raise_for_status=False,
        )

    async def stop(self) -> None:
        """Close the session; safe to call twice or after a failed start."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()


    async def pages(self, req: FetchRequest) -> AsyncGenerator[Page, None]:
        """Yield the resource's pages in order, one at a time.

        The caller may stop iterating at any time (wrap in `contextlib.aclosing` to close promptly); no
        response is open while a page is in the caller's hands.

        Raises:
            UpstreamError: a page failed after the retry policy, or its body has the wrong shape, or a next URL
                leaves the base URL's host.
            PageCapError: `req.max_pages` pages were yielded and the provider has more.
            ConfigError: the auth cannot be resolved, or the resource URL leaves the base URL's host.
        """
        session = self._session
        if session is None:
            raise RuntimeError("ProviderClient is not started")
        parts = req.auth.parts(where=f"instance {req.instance_id}")
        redactor = parts.redactor()
        headers = {**req.headers, **parts.header_values()}
        auth_params = parts.param_values()
        origin = _origin(URL(req.base_url))
        read = _Read(
            req=req, session=session, headers=headers, redactor=redactor,
            timeout=aiohttp.ClientTimeout(total=req.timeouts.total, connect=req.timeouts.connect),
        )

        url = req.resource_url()
        if _origin(URL(url)) != origin:
            raise ConfigError(
                f"{req.where}: resource URL {redactor.url(url)} is outside the base URL host "
                f"{_show_origin(origin)}; refusing to send credentials there",
            )
        request: PageRequest | None = first_request(req.pagination, url, req.page_size)
        previous_url: str | None = None
        while request is not None:
            if request.number > req.max_pages:
                raise PageCapError(
                    f"{req.where}: page cap {req.max_pages} hit; {req.max_pages} pages read and the provider "
                    f"has more", cap=req.max_pages,
                )
            full_url = request.full_url(auth_params)
            shown = redactor.url(str(full_url))
            if _origin(full_url) != origin:
                raise UpstreamError(
                    f"{req.where}: page {request.number} URL {shown} leaves the base URL host "
                    f"{_show_origin(origin)}; refusing to follow it", retriable=False,
                )
            if str(full_url) == previous_url:
                raise UpstreamError(
                    f"{req.where}: the provider sent page {request.number - 1}'s URL {shown} as the next page; "
                    f"stopping a pagination loop", retriable=False,
                )
            previous_url = str(full_url)
            status, response_headers, body = await self._get(read, full_url, shown)
            try:
                records = extract_records(body, records_path=req.records_path, resource=req.resource)
                following = next_request(req.pagination, request, response_headers, body, len(records))
            except PageShapeError as exc:
                raise UpstreamError(
                    f"{req.where}: page {request.number} from {shown}: {redactor.text(str(exc))}",
                    status=status, retriable=False,
                ) from None
            del body  # one page in memory at a time: the records list is all the caller needs
            if self._metrics is not None:
                self._metrics.records_fetched.labels(req.element_key, req.resource).inc(len(records))
            yield Page(records=records, number=request.number, url=shown, status=status)
            request = following

    async def _get(self, read: _Read, url: URL, shown: str) -> tuple[int, dict[str, str], Any]:
        """GET one page with the retry policy; return its status, headers (lower-case keys) and parsed body."""
        req = read.req
        policy = req.retry
        attempt = 1
        while True:
            outcome = await self._try_once(read, url)
            if not isinstance(outcome, _Attempt):
                return outcome
            detail = f"{req.where}: GET {shown}: {outcome.message}"
            if not outcome.retriable:
                raise UpstreamError(detail, status=outcome.status, retriable=False)
            if attempt >= policy.max_attempts:
                raise UpstreamError(
                    f"{detail} (gave up after {attempt} attempts)", status=outcome.status, retriable=True,
                )
            if outcome.retry_after is not None:
                delay = min(outcome.retry_after, policy.max_retry_after)
                if self._metrics is not None:
                    self._metrics.rate_limit_waits.labels(req.element_key).inc()
                    self._metrics.rate_limit_wait_seconds.labels(req.element_key).inc(delay)
            else:
                # Full jitter: spreads the retries of many pollers hitting one failing provider.
                delay = self._rng.uniform(0, min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)))
            log.warning(
                "%s; retrying in %.2fs (attempt %d of %d)", detail, delay, attempt, policy.max_attempts,
                extra={"element": req.element_key},
            )
            await self._sleep(delay)
            attempt += 1

    async def _try_once(self, read: _Read, url: URL) -> tuple[int, dict[str, str], Any] | _Attempt:
        req, redactor = read.req, read.redactor
        try:
            async with read.session.get(
                url, headers=read.headers, timeout=read.timeout, allow_redirects=False,
            ) as resp:
                status = resp.status
                self._count(req.element_key, f"{status // 100}xx")
                if 200 <= status < 300:
                    raw = await self._read(resp)
                    if raw is None:
                        return _Attempt(f"body larger than {self._max_body_bytes} bytes", status, False)
                    try:
                        body = orjson.loads(raw) if raw.strip() else None
                    except orjson.JSONDecodeError as exc:
                        # A truncated body is often a glitch of the provider or a proxy: try again.
                        return _Attempt(f"invalid JSON ({exc.msg} at byte {exc.pos})", status, True)
                    return status, _flat_headers(resp), body
                return await self._failure(resp, redactor)
        except TimeoutError:
            self._count(req.element_key, "error")
            return _Attempt(f"no complete response within {req.timeouts.total:g}s", None, True)
        except aiohttp.ClientError as exc:
            self._count(req.element_key, "error")
            return _Attempt(f"connection error: {redactor.text(type(exc).__name__ + ': ' + str(exc))}", None, True)

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes | None:
        """Read the body up to the size limit; None when it is larger."""
        if resp.content_length is not None and resp.content_length > self._max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self._max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _failure(self, resp: aiohttp.ClientResponse, redactor: Redactor) -> _Attempt:
        status = resp.status
        excerpt = redactor.text(await _excerpt(resp))
        if 300 <= status < 400:
            location = redactor.url(resp.headers.get("Location", "(none)"))
            return _Attempt(f"HTTP {status} redirect to {location} not followed; fix the URL", status, False)
        message = f"HTTP {status}: {excerpt}" if excerpt else f"HTTP {status}"
        if status in {429, 503}:
            wait = _retry_after(resp.headers.get("Retry-After"), self._clock())
            if wait is not None or status == 429:
                return _Attempt(message, status, True, retry_after=wait)
        if status >= 500 and status != 501:
            return _Attempt(message, status, True)
        # 408 is the server giving up on a slow request: worth another try, like a timeout.
        return _Attempt(message, status, status == 408)

    def _count(self, element: str, status_class: str) -> None:
        if self._metrics is not None:
            self._metrics.provider_responses.labels(element, status_class).inc()


async def _excerpt(resp: aiohttp.ClientResponse) -> str:
    """Return the start of an error body on one line; an unreadable body gives an empty excerpt."""
    try:
        raw = await resp.content.read(_EXCERPT_CHARS * 4)
    except (aiohttp.ClientError, TimeoutError):
        return ""
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"


def _flat_headers(resp: aiohttp.ClientResponse) -> dict[str, str]:
    """Lower-case header names; repeated headers (several `Link` lines) joined by ", " as RFC 9110 allows."""
    headers: dict[str, str] = {}
    for name, value in resp.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` value (delay seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _origin(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme.lower(), (url.host or "").lower(), url.port)


def _show_origin(origin: tuple[str, str, int | None]) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}:{port}"
