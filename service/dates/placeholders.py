"""Poller URL templates: the date placeholders of Open Connectors configurations and `{configKey}` references.

Forms (descriptors case-insensitive): `${gmtDate:F}`, `${date:F}` (server zone), `${date}` / `${gmtDate}`
(ISO-8601 UTC, milliseconds), `${dateTimeZone:ZONE:F}`, `${nowTimeZone:ZONE:F}` and `${now:F}` (the poll's end),
`${epoch}` (ms), `${epoch:s|ms|us}`, `${milliseconds}`. ZONE may hold a colon (`-8:00`) or be `{configKey}`;
F may hold quotes and colons. Substituted values are percent-encoded for a query string (`+` as `%2B`, space as
`%20`); the template's own text is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import quote

from service.dates.errors import DateFormatError, PlaceholderError
from service.dates.pattern import EPOCH, DateFormat
from service.dates.zones import parse_zone

NO_CONFIG: Mapping[str, object] = MappingProxyType({})
_SAFE = "-._~:/@!$'()*,"  # kept as is in a query value; `+ & = ; # %` and spaces are encoded
_CONFIG_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_COLON_ZONE = re.compile(r"(?:GMT|UTC)?[+-][0-9]{1,2}:[0-9]{2}(?=:)", re.ASCII | re.IGNORECASE)
_EPOCH_UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000}
_DESCRIPTORS = "gmtDate, date, now, dateTimeZone, nowTimeZone, epoch or milliseconds"


@dataclass(frozen=True, slots=True)
class DatePlaceholder:
    """A date placeholder: which instant, which zone (fixed, the server's, or a configuration key), which format."""

    text: str
    use_now: bool
    pattern: str | None  # None: ISO-8601 UTC with milliseconds
    zone: str | None = None  # None: the server zone
    zone_key: str | None = None  # the zone is this configuration key's value


@dataclass(frozen=True, slots=True)
class EpochPlaceholder:
    """`${epoch[:unit]}` or `${milliseconds}`: the poll's start as a number of units since 1970."""

    text: str
    unit: int  # per second


@dataclass(frozen=True, slots=True)
class ConfigReference:
    """`{configKey}`: a value of the instance configuration."""

    key: str


Part = str | DatePlaceholder | EpochPlaceholder | ConfigReference


def _encode(value: object) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return quote(text, safe=_SAFE)


def _iso(when: datetime) -> str:
    utc = when.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class UrlTemplate:
    """A compiled URL template; `render` substitutes the window's dates and the configuration's values."""

    template: str
    parts: tuple[Part, ...]

    @property
    def has_date_placeholder(self) -> bool:
        """Whether the URL filters by date (without one, every poll reads every page)."""
        return any(isinstance(part, DatePlaceholder | EpochPlaceholder) for part in self.parts)

    @property
    def config_keys(self) -> tuple[str, ...]:
        """Configuration keys the template reads, in the URL or as a zone."""
        keys = [part.key for part in self.parts if isinstance(part, ConfigReference)]
        keys += [part.zone_key for part in self.parts if isinstance(part, DatePlaceholder) and part.zone_key]
        return tuple(dict.fromkeys(keys))

    def render(self, since: datetime, now: datetime, config: Mapping[str, object] = NO_CONFIG, *,
               server_tz: str = "UTC", keep_missing: bool = False) -> str:
        """The URL for a poll of the window [since, now].

        `keep_missing` leaves `{key}` in place (and formats a zone from a missing key in GMT) instead of failing,
        for checking a configuration without an instance.

        Raises:
            PlaceholderError: a configuration key is missing, or its value is no valid zone.
            ValueError: `since` or `now` is naive.
        """
        if since.utcoffset() is None or now.utcoffset() is None:
            raise ValueError("since and now must be timezone-aware")
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, ConfigReference):
                if part.key in config:
                    out.append(_encode(config[part.key]))
                elif keep_missing:
                    out.append("{" + part.key + "}")
                else:
                    raise PlaceholderError(f"{{{part.key}}} in {self.template!r}: configuration key "
                                           f"{part.key!r} is not set")
            elif isinstance(part, EpochPlaceholder):
                out.append(str((since - EPOCH) // timedelta(microseconds=1_000_000 // part.unit)))
            else:
                out.append(_encode(self._date(part, since, now, config, server_tz, keep_missing)))
        return "".join(out)

    def _date(self, part: DatePlaceholder, since: datetime, now: datetime, config: Mapping[str, object],
              server_tz: str, keep_missing: bool) -> str:
        when = now if part.use_now else since
        if part.pattern is None:
            return _iso(when)
        zone = part.zone or server_tz
        if part.zone_key is not None:
            if part.zone_key not in config and not keep_missing:
                raise PlaceholderError(f"{part.text} in {self.template!r}: configuration key "
                                       f"{part.zone_key!r} (the zone) is not set")
            zone = str(config.get(part.zone_key, "GMT"))
        try:
            return DateFormat(part.pattern, zone).format(when)
        except DateFormatError as error:
            raise PlaceholderError(f"{part.text} in {self.template!r}: {error}") from None


def _placeholder_end(template: str, start: int) -> int:
    """Index of the `}` closing the placeholder at `start`, skipping quoted text and `{key}` zones."""
    depth, quoted = 0, False
    for index in range(start + 2, len(template)):
        char = template[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "{":
            depth += 1
        elif not quoted and char == "}":
            if depth == 0:
                return index
            depth -= 1
    first_brace = template.find("}", start)
    if first_brace >= 0 and template.count("'", start, first_brace) % 2:
        raise PlaceholderError(f"malformed placeholder {template[start:first_brace + 1]!r}: unterminated quote "
                               "in the date format")
    raise PlaceholderError(f"malformed placeholder {template[start:]!r}: no closing '}}'")


def _zone_and_format(body: str, text: str) -> tuple[str | None, str | None, str]:
    """Split `ZONE:F` (ZONE may be `-8:00` or `{key}`) into zone, zone key and format."""
    if body.startswith("{"):
        end = body.find("}")
        key, rest = body[1:end], body[end + 1:]
        if end < 0 or not _CONFIG_KEY.fullmatch(key) or not rest.startswith(":"):
            raise PlaceholderError(f"malformed placeholder {text!r}: expected ${{...:{{configKey}}:FORMAT}}")
        return None, key, rest[1:]
    match = _COLON_ZONE.match(body)
    zone, _, pattern = (match[0], ":", body[match.end() + 1:]) if match else body.partition(":")
    if not pattern:
        raise PlaceholderError(f"malformed placeholder {text!r}: expected ${{...:ZONE:FORMAT}}")
    try:
        parse_zone(zone)
    except DateFormatError as error:
        raise PlaceholderError(f"malformed placeholder {text!r}: {error}") from None
    return zone.strip(), None, pattern


def _placeholder(body: str, text: str) -> DatePlaceholder | EpochPlaceholder:
    descriptor, colon, rest = body.partition(":")
    kind = descriptor.strip().lower()
    if kind in ("epoch", "milliseconds"):
        unit = _EPOCH_UNITS.get(rest.strip().lower()) if colon else 1_000
        if unit is None or (colon and kind == "milliseconds"):
            raise PlaceholderError(f"malformed placeholder {text!r}: expected ${{epoch}}, ${{epoch:s}}, "
                                   "${epoch:ms}, ${epoch:us} or ${milliseconds}")
        return EpochPlaceholder(text, unit)
    if kind in ("gmtdate", "date", "now"):
        if not colon:
            return DatePlaceholder(text, use_now=kind == "now", pattern=None)
        placeholder = DatePlaceholder(text, use_now=kind == "now", pattern=rest,
                                      zone=None if kind == "date" else "GMT")
    elif kind in ("datetimezone", "nowtimezone"):
        zone, key, pattern = _zone_and_format(rest, text)
        placeholder = DatePlaceholder(text, kind == "nowtimezone", pattern, zone or "GMT", key)
    else:
        raise PlaceholderError(f"malformed placeholder {text!r}: unknown descriptor {descriptor!r}, "
                               f"expected {_DESCRIPTORS}")
    try:
        DateFormat(placeholder.pattern or "", "UTC")
    except DateFormatError as error:
        raise PlaceholderError(f"malformed placeholder {text!r}: {error}") from None
    return placeholder


@lru_cache(maxsize=1024)
def compile_url(template: str) -> UrlTemplate:
    """Compile a URL template (cached).

    Raises:
        PlaceholderError: a placeholder is malformed (unterminated quote, unknown descriptor, bad format or zone)
            or a brace is unbalanced; the message quotes it.
    """
    parts: list[Part] = []
    literal: list[str] = []
    index = 0
    while index < len(template):
        char = template[index]
        if char == "$" and template.startswith("${", index):
            end = _placeholder_end(template, index)
            parts += ["".join(literal)] if literal else []
            parts.append(_placeholder(template[index + 2:end], template[index:end + 1]))
            literal, index = [], end + 1
            continue
        if char == "{":
            end = template.find("}", index)
            if end < 0:
                raise PlaceholderError(f"unbalanced '{{' in {template!r} at {template[index:]!r}")
            key = template[index + 1:end]
            if _CONFIG_KEY.fullmatch(key):
                parts += ["".join(literal)] if literal else []
                parts.append(ConfigReference(key))
                literal = []
            else:  # other braced text (JSON in a query) stays as written
                literal.append(template[index:end + 1])
            index = end + 1
            continue
        if char == "}":
            raise PlaceholderError(f"unbalanced '}}' in {template!r} at {template[index:]!r}")
        literal.append(char)
        index += 1
    if literal:
        parts.append("".join(literal))
    return UrlTemplate(template, tuple(parts))


def render_url(template: str, since: datetime, now: datetime, config: Mapping[str, object] = NO_CONFIG, *,
               server_tz: str = "UTC") -> str:
    """Render a poller URL for the window [since, now] (see `UrlTemplate.render`).

    Raises:
        PlaceholderError: the template is malformed or a configuration key it reads is missing.
    """
    return compile_url(template).render(since, now, config, server_tz=server_tz)
