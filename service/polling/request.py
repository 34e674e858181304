"""What the poller asks of a provider and what it gets back: the request, its retry and timeout policy, a page.

Pure data: `service.polling.fetch.ProviderClient` does the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from yarl import URL

from service.errors import UpstreamError
from service.polling.auth import Auth, NoAuth
from service.polling.paginate import HubPagination, Pagination


class RetryPolicy(BaseModel):
    """How a failed request is tried again.

    Attributes:
        max_attempts: tries per page, the first included (1 = no retry).
        base_delay: seconds; the backoff before try n+1 is uniform in [0, min(max_delay, base_delay * 2**(n-1))].
        max_delay: upper bound of one backoff, seconds.
        max_retry_after: the longest `Retry-After` obeyed, seconds; a longer ask is waited this long.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=4, ge=1, le=20)
    base_delay: float = Field(default=0.5, ge=0)
    max_delay: float = Field(default=30.0, ge=0)
    max_retry_after: float = Field(default=120.0, ge=0)


class Timeouts(BaseModel):
    """Per-request time limits, seconds.

    Attributes:
        connect: to get a connection (pool wait included).
        total: for one request, from send to the last body byte.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    connect: float = Field(default=10.0, gt=0)
    total: float = Field(default=60.0, gt=0)


class FetchRequest(BaseModel):
    """One read of a resource, every page of it.

    Attributes:
        element_key: the element (connector) key; a metric label.
        instance_id: the instance; named in errors, never a label.
        resource: the resource name (`contacts`); named in errors, finds wrapped records.
        base_url: the instance's provider base URL; no URL outside its scheme, host and port is fetched.
        url: the rendered resource URL, relative to `base_url` (appended to it) or absolute.
        auth: how to authenticate.
        pagination: the pagination style.
        page_size: records per page to ask for.
        records_path: dotted path of the record array in a page body; None: see `extract_records`.
        max_pages: the most pages read; one more available page raises `PageCapError`.
        timeouts: per-request time limits.
        retry: the retry policy.
        headers: extra request headers (for example `Accept`); auth headers win over them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    element_key: str = Field(min_length=1)
    instance_id: str = Field(min_length=1)
    resource: str = Field(min_length=1)
    base_url: str
    url: str
    auth: Auth = Field(default_factory=NoAuth)
    pagination: Pagination = Field(default_factory=HubPagination)
    page_size: int = Field(default=20, ge=1, le=10_000)
    records_path: str | None = None
    max_pages: int = Field(default=1000, ge=1)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _base_url_is_absolute(self) -> Self:
        base = URL(self.base_url)
        if not base.is_absolute() or base.scheme not in {"http", "https"}:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {self.base_url!r}")
        return self

    @property
    def where(self) -> str:
        """Return `instance X resource Y`, the prefix of every error message of this read."""
        return f"instance {self.instance_id} resource {self.resource}"

    def resource_url(self) -> str:
        """Return the absolute resource URL: `url` when absolute, else `base_url` + `/` + `url`."""
        if URL(self.url).is_absolute():
            return self.url
        # Concatenate rather than RFC-join: Open Connectors resource paths extend the base path (`/v3` + `/contacts`).
        return f"{self.base_url.rstrip('/')}/{self.url.lstrip('/')}"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of records.

    Attributes:
        records: the records, each a JSON object.
        number: 1 for the first page of the read.
        url: the URL fetched, credentials redacted.
        status: the HTTP status.
    """

    records: list[dict[str, Any]]
    number: int
    url: str
    status: int


class PageCapError(UpstreamError):
    """The read stopped at `max_pages` while the provider had more pages.

    Raised after the last allowed page was yielded, so the caller has every page read so far and can record
    the status `str(error)` (`... page cap N hit`). Not retriable: the same read would hit it again.

    Attributes:
        cap: the page cap.
    """

    def __init__(self, message: str, *, cap: int) -> None:
        super().__init__(message, retriable=False)
        self.cap = cap
