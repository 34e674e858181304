"""Webhook request bodies: reading them within the size limit and parsing JSON or form fields. No HTTP statuses.

JSON (`application/json`, any `+json` type, or no Content-Type at all) becomes whatever the JSON holds.
`application/x-www-form-urlencoded` becomes an object of strings (UTF-8; a repeated field becomes a list of its
strings, in order); a field named `payload` that holds a JSON object or array (Slack interactive calls) is replaced
by that JSON, and left as the string otherwise. The raw bytes are kept for signature checks and dead letters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

import orjson

from service.errors import ServiceError

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# More fields than any provider sends; bounds the work an attacker can cause with `a&a&a&...`.
MAX_FORM_FIELDS = 1000
_PAYLOAD_FIELD = "payload"


class PayloadError(ServiceError):
    """A request body cannot be accepted; subclasses say why (the route turns each into its status)."""


class PayloadTooLarge(PayloadError):
    """The body is longer than the configured limit."""


class UnsupportedMediaType(PayloadError):
    """The Content-Type is neither JSON nor a form."""


class MalformedPayload(PayloadError):
    """The body does not parse as its Content-Type says."""


@dataclass(frozen=True, slots=True)
class Payload:
    """One request body.

    Attributes:
        raw: the bytes exactly as received (what signatures cover).
        body: the parsed body: JSON data, or form fields as strings.
    """

    raw: bytes
    body: object


async def read_limited(chunks: AsyncIterator[bytes], *, declared: int | None, limit: int) -> bytes:
    """Read a body without ever holding more than `limit` bytes of it.

    Args:
        chunks: the body stream (aiohttp's `request.content.iter_chunked(...)`).
        declared: the Content-Length, if any (refused before reading when already too long).
        limit: the most bytes accepted.

    Raises:
        PayloadTooLarge: the body (declared or read) is longer than `limit`.
    """
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"body of {declared} bytes is over the limit of {limit} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body is over the limit of {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


def is_json(content_type: str | None) -> bool:
    """Whether a media type (lower-case, without parameters) is parsed as JSON; None means no header."""
    return content_type is None or content_type == JSON or content_type.endswith("+json")


def parse(raw: bytes, content_type: str | None) -> Payload:
    """Parse a body by its media type.

    Args:
        raw: the body bytes.
        content_type: the media type without parameters, lower-case; None when the request had no Content-Type.

    Raises:
        UnsupportedMediaType: neither JSON nor a form.
        MalformedPayload: empty or invalid JSON, or a form that is not UTF-8 or has too many fields.
    """
    if is_json(content_type):
        try:
            return Payload(raw, orjson.loads(raw))
        except orjson.JSONDecodeError as exc:
            what = "empty" if not raw.strip() else f"not valid JSON ({exc.msg} at byte {exc.pos})"
            raise MalformedPayload(f"the body is {what}") from None
    if content_type == FORM:
        return Payload(raw, _form(raw))
    raise UnsupportedMediaType(f"Content-Type {content_type!r} is not accepted; send {JSON} or {FORM}")


def _form(raw: bytes) -> dict[str, object]:
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict"
        )
    except UnicodeDecodeError:
        raise MalformedPayload("the form body is not UTF-8") from None
    except ValueError:
        raise MalformedPayload(f"the form body has more than {MAX_FORM_FIELDS} fields") from None
    fields: dict[str, object] = {}
    for name, value in pairs:
        previous = fields.get(name)
        if previous is None:
            fields[name] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            fields[name] = [previous, value]
    payload = fields.get(_PAYLOAD_FIELD)
    if isinstance(payload, str):
        try:
            parsed = orjson.loads(payload)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict | list):
            fields[_PAYLOAD_FIELD] = parsed
    return fields
