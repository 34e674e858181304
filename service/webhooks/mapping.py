"""Declarative event mapping for elements without a hook: settings, path language and evaluation.

`EventMapping` says where items, ids, types and dates are; `map_events` turns a body into `HookEvent`s.

Paths: `$` is the current item (for `items`, the body), `$body` the whole body, `$headers` the request headers
(lower-case names); then `.name`, `['name']`, `[n]` (negative counts from the end) and `[*]` (every element).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.events import EventType
from service.webhooks.hooks.contract import DateFormat, HookError, HookEvent, parse_event_date, parse_event_type

Root = Literal["item", "body", "headers"]
_ROOTS: dict[str, Root] = {"$": "item", "$body": "body", "$headers": "headers"}
_ROOT = re.compile(r"\$(body|headers)?")
_STEP = re.compile(r"""\.([^.\[\]'"]+)|\[(-?\d+)\]|\[\*\]|\['([^']*)'\]|\["([^"]*)"\]""")
_CANONICAL_TYPES = {kind.value for kind in EventType}


class _Wildcard:
    """`[*]`: every element of an array (or every value of an object)."""

    def __repr__(self) -> str:
        return "[*]"


WILDCARD = _Wildcard()
Step = str | int | _Wildcard


@dataclass(frozen=True)
class JsonPath:
    """A parsed path; `select` returns every match, in document order.

    Attributes:
        text: the path as written (used in error messages).
        root: what `$` refers to: the current item, the whole body, or the headers.
        steps: keys (str), indices (int) and wildcards, in order.
    """

    text: str
    root: Root
    steps: tuple[Step, ...]

    @classmethod
    def parse(cls, text: str) -> JsonPath:
        """Parse `$.a.b[0]`, `$body.items[*].id`, `$headers.x-github-event` ...

        Raises:
            ValueError: the text is not a path (says where it stops making sense).
        """
        root_match = _ROOT.match(text)
        if root_match is None:
            raise ValueError(f"path {text!r} must start with $, $body or $headers")
        root = _ROOTS[root_match.group(0)]
        position = root_match.end()
        steps: list[Step] = []
        while position < len(text):
            step = _STEP.match(text, position)
            if step is None:
                raise ValueError(f"path {text!r}: cannot read {text[position:]!r}")
            name, index, quoted_single, quoted_double = step.groups()
            if index is not None:
                steps.append(int(index))
            elif name is not None:
                steps.append(name)
            elif quoted_single is not None or quoted_double is not None:
                steps.append(quoted_single if quoted_single is not None else quoted_double)
            else:
                steps.append(WILDCARD)
            position = step.end()
        return cls(text=text, root=root, steps=tuple(steps))

    def select(self, item: object, *, body: object = None, headers: Mapping[str, str] | None = None) -> list[object]:
        """Every value the path reaches (empty when a key or index is missing).

        Args:
            item: what `$` means.
            body: what `$body` means.
            headers: what `$headers` means (looked up by lower-case name).
        """
        start: object
        if self.root == "item":
            start = item
        elif self.root == "body":
            start = body
        else:
            start = {name.lower(): value for name, value in (headers or {}).items()}
        current = [start]
        for step in self.steps:
            current = [found for value in current for found in _step(value, step)]
        return current

    def first(self, item: object, *, body: object = None, headers: Mapping[str, str] | None = None) -> object:
        """The first match, or None."""
        found = self.select(item, body=body, headers=headers)
        return found[0] if found else None


def _step(value: object, step: Step) -> list[object]:
    if isinstance(step, _Wildcard):
        if isinstance(value, list):
            return list(value)
        return list(value.values()) if isinstance(value, dict) else []
    if isinstance(step, int):
        if isinstance(value, list) and -len(value) <= step < len(value):
            return [value[step]]
        return []
    if isinstance(value, dict) and step in value:
        return [value[step]]
    return []


def is_path(text: str) -> bool:
    """Whether a mapping value is a path (starts with `$`) rather than a constant."""
    return text.startswith("$")


def _check_path(value: str | None) -> str | None:
    if value is not None and is_path(value):
        JsonPath.parse(value)
    return value


class EventMapping(BaseModel):
    """How to find events in a body without JavaScript.

    Every value field is either a path (starting with `$`) or, where noted, a constant.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    items: str | None = Field(
        default=None,
        description="Path from the body to the items (an array, or `[*]` matches). Unset: the body is the one "
        "item, or each element when the body is an array.",
    )
    id: str = Field(description="Path to the object id in an item (a string or a number).")
    type: str | None = Field(
        default=None,
        description="Path to the provider's event type, or a constant; looked up in `type_map`, then read as "
        "CREATED/UPDATED/DELETED or a synonym (create, deleted ...). Unset: UNKNOWN.",
    )
    type_map: dict[str, str] = Field(
        default_factory=dict,
        alias="typeMap",
        description="Provider event type to CREATED, UPDATED, DELETED or UNKNOWN, e.g. {'contact.created': 'CREATED'}.",
    )
    date: str | None = Field(
        default=None, description="Path to the event date in an item. Unset or missing: the receipt time."
    )
    date_format: DateFormat = Field(
        default="iso",
        alias="dateFormat",
        description="iso (ISO-8601, or epoch seconds/ms guessed by size), epoch/seconds, or milliseconds.",
    )
    object_type: str = Field(
        alias="objectType", description="Path to the object type in an item, or a constant such as `contacts`."
    )

    @field_validator("items", "id", "date")
    @classmethod
    def _paths(cls, value: str | None) -> str | None:
        if value is not None:
            JsonPath.parse(value)
        return value

    @field_validator("type", "object_type")
    @classmethod
    def _path_or_constant(cls, value: str | None) -> str | None:
        return _check_path(value)

    @field_validator("type_map")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        for provider_type, mapped in value.items():
            if mapped.upper() not in _CANONICAL_TYPES:
                raise ValueError(f"typeMap[{provider_type!r}] must be CREATED, UPDATED, DELETED or UNKNOWN")
        return {provider_type: mapped.upper() for provider_type, mapped in value.items()}

    @model_validator(mode="after")
    def _id_is_path(self) -> EventMapping:
        if not is_path(self.id):
            raise ValueError("id must be a path starting with $")
        return self


def map_events(
    mapping: EventMapping,
    body: object,
    headers: Mapping[str, str],
    *,
    received_at: datetime,
    where: str,
) -> list[HookEvent]:
    """Apply a mapping to a parsed body.

    Args:
        mapping: the element's mapping.
        body: the parsed body (JSON, or form fields as strings).
        headers: the request headers (`$headers` paths).
        received_at: the date of items without one (aware).
        where: names the element and instance in errors.

    Raises:
        HookError: reason `shape`, naming the path that found nothing or a value of the wrong kind.
    """
    items = _items(mapping, body, headers, where)
    return [
        _event(mapping, item, body, headers, received_at=received_at, where=f"{where}, item {index}")
        for index, item in enumerate(items)
    ]


def _items(mapping: EventMapping, body: object, headers: Mapping[str, str], where: str) -> list[object]:
    if mapping.items is None:
        return list(body) if isinstance(body, list) else [body]
    path = JsonPath.parse(mapping.items)
    found = path.select(body, body=body, headers=headers)
    if not found:
        raise HookError(f"{where}: items path {path.text} found nothing", reason="shape")
    # `$.data` names the array itself; `$.data[*]` already produced its elements.
    if len(found) == 1 and isinstance(found[0], list):
        return list(found[0])
    return found


def _event(
    mapping: EventMapping,
    item: object,
    body: object,
    headers: Mapping[str, str],
    *,
    received_at: datetime,
    where: str,
) -> HookEvent:
    object_id = _required_text(JsonPath.parse(mapping.id), item, body, headers, where)
    object_type = (
        _required_text(JsonPath.parse(mapping.object_type), item, body, headers, where)
        if is_path(mapping.object_type)
        else mapping.object_type
    )
    event_type = EventType.UNKNOWN
    if mapping.type is not None:
        provider_type = (
            JsonPath.parse(mapping.type).first(item, body=body, headers=headers)
            if is_path(mapping.type)
            else mapping.type
        )
        event_type = _event_type(mapping, provider_type)
    date = received_at
    if mapping.date is not None:
        raw_date = JsonPath.parse(mapping.date).first(item, body=body, headers=headers)
        if raw_date is not None and raw_date != "":
            try:
                date = parse_event_date(raw_date, date_format=mapping.date_format)
            except ValueError as exc:
                raise HookError(f"{where}: {mapping.date}: {exc}", reason="shape") from exc
    raw: dict[str, Any] = item if isinstance(item, dict) else {"value": item}
    return HookEvent(object_type=object_type, object_id=object_id, event_type=event_type, date=date, raw=raw)


def _event_type(mapping: EventMapping, provider_type: object) -> EventType:
    if isinstance(provider_type, str):
        mapped = mapping.type_map.get(provider_type)
        if mapped is not None:
            return EventType(mapped)
    return parse_event_type(provider_type)


def _required_text(path: JsonPath, item: object, body: object, headers: Mapping[str, str], where: str) -> str:
    value = path.first(item, body=body, headers=headers)
    if isinstance(value, bool) or value is None:
        raise HookError(f"{where}: {path.text} found {'nothing' if value is None else 'a boolean'}", reason="shape")
    if isinstance(value, int | float):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise HookError(f"{where}: {path.text} must be a non-empty string or number", reason="shape")
