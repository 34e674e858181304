"""Pagination styles of provider APIs and the pure decisions over them: the next page, and the page's records.

No I/O: `first_request` and `next_request` turn a style, the previous request and the response into the next
request (or None at the end); `extract_records` finds the records in a parsed body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from yarl import URL


class PageShapeError(ValueError):
    """A page body does not have the shape the configuration expects (the caller adds instance and resource)."""


class _Style(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    page_size_param: str | None = "pageSize"
    """Query parameter carrying the page size; None sends none."""


class HubPagination(_Style):
    """Open Connectors default: `pageSize` and `nextPage` parameters, the token in a response header."""

    style: Literal["hub"] = "hub"
    next_page_param: str = "nextPage"
    next_page_header: str = "elements-next-page-token"


class PagePagination(_Style):
    """Page numbers; the read stops on a short or empty page."""

    style: Literal["page"] = "page"
    page_param: str = "page"
    first_page: int = 1


class OffsetPagination(_Style):
    """Offset and limit; the read stops on a short or empty page."""

    style: Literal["offset"] = "offset"
    page_size_param: str | None = "limit"
    offset_param: str = "offset"
    first_offset: int = Field(default=0, ge=0)


class CursorPagination(_Style):
    """An opaque cursor at a dotted body path, sent back as a parameter; stops when it is absent or empty."""

    style: Literal["cursor"] = "cursor"
    page_size_param: str | None = "limit"
    cursor_path: str = Field(default="next_cursor", min_length=1)
    cursor_param: str = "cursor"


class LinkPagination(_Style):
    """RFC 8288 `Link: <url>; rel="next"` response header; stops when there is no such link."""

    style: Literal["link"] = "link"
    page_size_param: str | None = "per_page"
    rel: str = "next"


class NextUrlPagination(_Style):
    """The full next-page URL at a dotted body path; stops when it is absent or empty."""

    style: Literal["next_url"] = "next_url"
    page_size_param: str | None = "limit"
    next_url_path: str = Field(default="next", min_length=1)


Pagination = Annotated[
    HubPagination | PagePagination | OffsetPagination | CursorPagination | LinkPagination | NextUrlPagination,
    Field(discriminator="style"),
]
"""One pagination style, chosen by its `style`."""


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page to ask for.

    Attributes:
        url: absolute URL; may already carry query parameters (the rendered resource URL, or a next URL).
        params: paging parameters to set on `url` (they replace parameters of the same name).
        number: 1 for the first page of a read.
        page_size: the page size asked for.
        position: the page number (`page`) or offset (`offset`) this request asks for; 0 for other styles.
    """

    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    number: int = 1
    page_size: int = 20
    position: int = 0

    def full_url(self, extra: Mapping[str, str] | None = None) -> URL:
        """Return the URL with the paging parameters (and `extra`, such as an API key) set.

        The rendered query is kept byte for byte unless a parameter is replaced: date placeholders render
        characters (`+`, `'`) whose encoding the provider may care about.
        """
        params = {**self.params, **(extra or {})}
        url = URL(self.url)
        if not params:
            return url
        present = [name for name in params if name in url.query]
        if present:
            url = url.without_query_params(*present)
        return url.extend_query(params)


def first_request(style: Pagination, url: str, page_size: int) -> PageRequest:
    """Return the request for the first page.

    Args:
        style: the pagination style.
        url: the absolute resource URL.
        page_size: records per page to ask for.
    """
    params: dict[str, str] = {}
    if style.page_size_param:
        params[style.page_size_param] = str(page_size)
    position = 0
    if isinstance(style, PagePagination):
        position = style.first_page
        params[style.page_param] = str(position)
    elif isinstance(style, OffsetPagination):
        position = style.first_offset
        params[style.offset_param] = str(position)
    return PageRequest(url=url, params=params, number=1, page_size=page_size, position=position)


def next_request(
    style: Pagination,
    previous: PageRequest,
    response_headers: Mapping[str, str],
    body: Any,
    records_on_page: int,
) -> PageRequest | None:
    """Return the request for the page after `previous`, or None when `previous` was the last page.

    Args:
        style: the pagination style.
        previous: the request that produced this response.
        response_headers: the response headers (looked up case-insensitively; repeated headers joined by ", ").
        body: the parsed response body.
        records_on_page: how many records the response held.

    Raises:
        PageShapeError: a cursor or next URL is present but is not a string or number.
    """
    if isinstance(style, HubPagination):
        return _next_hub(style, previous, response_headers)
    if isinstance(style, PagePagination | OffsetPagination):
        return _next_counted(style, previous, records_on_page)
    if isinstance(style, CursorPagination):
        cursor = _scalar_at(body, style.cursor_path, what="cursor")
        if not cursor:
            return None
        params = {**previous.params, style.cursor_param: cursor}
        return PageRequest(previous.url, params, previous.number + 1, previous.page_size)
    if isinstance(style, LinkPagination):
        target = next_link(_header(response_headers, "link"), rel=style.rel)
    else:
        target = _scalar_at(body, style.next_url_path, what="next URL")
    if not target:
        return None
    # The target carries every parameter it needs; a relative one resolves against the URL just fetched.
    return PageRequest(str(previous.full_url().join(URL(target))), {}, previous.number + 1, previous.page_size)


def _next_hub(style: HubPagination, previous: PageRequest, headers: Mapping[str, str]) -> PageRequest | None:
    token = _header(headers, style.next_page_header)
    if not token:
        return None
    params = {**previous.params, style.next_page_param: token}
    return PageRequest(previous.url, params, previous.number + 1, previous.page_size)


def _next_counted(
    style: PagePagination | OffsetPagination, previous: PageRequest, records_on_page: int,
) -> PageRequest | None:
    # A short page is the last one. A provider capping the page size below the one asked for makes every page
    # short: configure page_size at or under the provider's maximum.
    if records_on_page == 0 or records_on_page < previous.page_size:
        return None
    if isinstance(style, PagePagination):
        position, name = previous.position + 1, style.page_param
    else:
        position, name = previous.position + records_on_page, style.offset_param
    params = {**previous.params, name: str(position)}
    return PageRequest(previous.url, params, previous.number + 1, previous.page_size, position)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value.strip() if value is not None else None


def _scalar_at(body: Any, path: str, *, what: str) -> str | None:
    value = value_at(body, path)
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise PageShapeError(f"the {what} at {path!r} is a {type(value).__name__}, expected a string")


def value_at(body: Any, path: str) -> Any:
    """Return the value at a dotted path (`meta.next`, `data.0.items`), or None when any step is missing."""
    current = body
    for step in path.split("."):
        if isinstance(current, dict):
            current = current.get(step)
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


def extract_records(body: Any, *, records_path: str | None, resource: str) -> list[dict[str, Any]]:
    """Return the records of a page body.

    Args:
        body: the parsed body.
        records_path: dotted path of the record array; None finds it: the body itself when it is an array
            (Open Connectors hub responses), else the key named like the resource (`{"contacts": [...]}`,
            the last path segment of a nested resource name).
        resource: the resource name.

    Raises:
        PageShapeError: no array at the path, or an element that is not a JSON object (its index is named).
    """
    if records_path:
        records = value_at(body, records_path)
        if not isinstance(records, list):
            found = "nothing" if records is None else f"a {type(records).__name__}"
            raise PageShapeError(f"records path {records_path!r} holds {found}, expected an array")
    elif isinstance(body, list):
        records = body
    elif isinstance(body, dict):
        key = resource.rstrip("/").rsplit("/", 1)[-1]
        records = body.get(key)
        if not isinstance(records, list):
            keys = ", ".join(sorted(map(str, body))[:10]) or "none"
            raise PageShapeError(
                f"the body is an object without a {key!r} array (keys: {keys}); set records_path",
            )
    else:
        raise PageShapeError(f"the body is a {type(body).__name__}, expected an array or an object")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise PageShapeError(f"record at index {index} is a {type(record).__name__}, expected a JSON object")
    return records


@dataclass(frozen=True, slots=True)
class Link:
    """One link of an RFC 8288 `Link` header.

    Attributes:
        target: the URI between the angle brackets (possibly relative).
        params: parameter names (lower case) to values (unquoted).
    """

    target: str
    params: Mapping[str, str]

    @property
    def rels(self) -> frozenset[str]:
        """Return the relation types (`rel` is a space-separated, case-insensitive list)."""
        return frozenset(self.params.get("rel", "").lower().split())


# One link: <target> then parameters; a parameter value is a token or a quoted string with escapes.
_QUOTED = r"\"(?:[^\"\\]|\\.)*\""
_PARAM_PART = r";\s*[^;,\"=\s]+(?:\s*=\s*(?:" + _QUOTED + r"|[^;,\s]*))?"
_LINK = re.compile(r"\s*<(?P<target>[^<>]*)>(?P<params>(?:\s*" + _PARAM_PART + r")*)")
_PARAM = re.compile(
    r";\s*(?P<name>[^;,\"=\s]+)(?:\s*=\s*(?:\"(?P<quoted>(?:[^\"\\]|\\.)*)\"|(?P<token>[^;,\s]*)))?",
)


def parse_link_header(value: str) -> list[Link]:
    """Parse an RFC 8288 `Link` header value into its links; malformed parts are skipped, not fatal.

    Handles several links in one value, quoted parameter values holding commas or semicolons, valueless
    parameters and relative targets (returned as given).
    """
    links: list[Link] = []
    position = 0
    while position < len(value):
        match = _LINK.match(value, position)
        if match is None:
            # Skip to the next link start; a stray character must not hide the links after it.
            next_start = value.find("<", position + 1)
            if next_start < 0:
                break
            position = next_start
            continue
        params: dict[str, str] = {}
        for param in _PARAM.finditer(match["params"]):
            name = param["name"].lower()
            quoted = param["quoted"]
            raw = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else param["token"] or ""
            # RFC 8288 3.3: only the first occurrence of a parameter counts.
            params.setdefault(name, raw)
        links.append(Link(target=match["target"].strip(), params=params))
        position = match.end()
        comma = value.find(",", position)
        if comma < 0:
            break
        position = comma + 1
    return links


def next_link(value: str | None, *, rel: str = "next") -> str | None:
    """Return the target of the first link with relation `rel` in a `Link` header value, or None."""
    if not value:
        return None
    wanted = rel.lower()
    return next((link.target for link in parse_link_header(value) if wanted in link.rels and link.target), None)
