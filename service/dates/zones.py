"""Time zones as configurations spell them, and Java's names for zones in date text.

`parse_zone` reads a configured zone; `zone_name` gives Java's `z`/`zzzz` name of a local time;
`text_zone_offset` reads a zone name found in date text the way `SimpleDateFormat` does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache, lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, available_timezones

from service.dates import java_zone_data
from service.dates.errors import DateFormatError


class JavaZoneNames(NamedTuple):
    """Java's display data of one zone (Locale.US): raw offset and DST savings in minutes, four names."""

    raw: int
    savings: int
    short_std: str
    short_dst: str
    long_std: str
    long_dst: str


def _load_zones() -> dict[str, JavaZoneNames]:
    zones = {}
    for line in java_zone_data.JAVA_ZONES.splitlines():
        key, raw, savings, *names = line.split(",")
        zones[key] = JavaZoneNames(int(raw), int(savings), *names)
    return zones


def _load_text_zones() -> dict[str, int]:
    pairs = (item.rsplit("=", 1) for line in java_zone_data.TEXT_ZONES.splitlines() for item in line.split("|"))
    return {name: int(minutes) for name, minutes in pairs}


JAVA_ZONES = _load_zones()
_TEXT_ZONES = _load_text_zones()
_TEXT_ZONES_LOWER = {name.lower(): minutes for name, minutes in _TEXT_ZONES.items()}
# Zone names a `z` field accepts in text, longest first so that a regex alternation takes the longest match.
TEXT_ZONE_NAMES = tuple(sorted(_TEXT_ZONES, key=len, reverse=True))
# Long name of each short one, for `zzzz` of zones outside JAVA_ZONES and of fixed zones named like "PDT".
_LONG_NAMES: dict[str, str] = {}
for _names in JAVA_ZONES.values():
    _LONG_NAMES.setdefault(_names.short_std, _names.long_std)
    _LONG_NAMES.setdefault(_names.short_dst, _names.long_dst)
_LONG_NAMES.update({short: long for short, (_, long) in java_zone_data.JAVA_FIXED_IDS.items()})

_OFFSET = re.compile(r"(?:GMT|UTC|UT)?([+-])([0-9]{1,2})(?::?([0-9]{2}))?", re.ASCII | re.IGNORECASE)
_EXPECTED = (
    "expected an IANA name (America/New_York), a Java id (PST, EST), GMT or UTC, GMT-06:00, "
    "or an offset (-8:00, +05:30, -0800)"
)


def offset_name(minutes: int) -> str:
    """Java's id of a fixed offset: `GMT-08:00`."""
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours:02d}:{mins:02d}"


def fixed_zone(minutes: int, name: str | None = None) -> timezone:
    """A fixed-offset zone whose `tzname` is Java's short name for it."""
    return timezone(timedelta(minutes=minutes), name or offset_name(minutes))


GMT = fixed_zone(0, "GMT")
UTC_ZONE = UTC  # named "UTC"; the singleton lets UTC instants skip conversions


@lru_cache(maxsize=512)
def parse_zone(text: str) -> tzinfo:
    """The zone a configuration names.

    Accepts IANA names (case-insensitive), Java's three-letter ids (EST, MST, HST fixed; PST, CST, IST... as
    Java maps them), `GMT`, `UTC`, `Z`, `GMT-06:00`, `UTC+5:30`, offsets (`-8:00`, `+05:30`, `-0800`, `+5`) and,
    unlike Java (which silently falls back to GMT), the zone names Java reads in date text (PDT, CEST) as their
    fixed offsets. Empty means GMT.

    Raises:
        DateFormatError: the zone is unknown or the offset out of range.
    """
    name = text.strip()
    upper = name.upper()
    if upper in ("", "GMT"):
        return GMT
    if upper in ("UTC", "UT", "Z"):
        return UTC_ZONE
    if match := _OFFSET.fullmatch(name):
        sign, hours, mins = match[1], int(match[2]), int(match[3] or 0)
        if hours > 23 or mins > 59:
            raise DateFormatError(f"time zone offset {text!r} is out of range: hours 0-23, minutes 0-59")
        return fixed_zone((hours * 60 + mins) * (-1 if sign == "-" else 1))
    if upper in java_zone_data.JAVA_FIXED_IDS:
        return fixed_zone(java_zone_data.JAVA_FIXED_IDS[upper][0], upper)
    if upper in java_zone_data.JAVA_SHORT_IDS:
        return ZoneInfo(java_zone_data.JAVA_SHORT_IDS[upper])
    if (key := _iana_keys().get(name.lower())) is not None:
        return ZoneInfo(key)
    if (minutes := _TEXT_ZONES_LOWER.get(name.lower())) is not None:
        return fixed_zone(minutes, name)
    raise DateFormatError(f"unknown time zone {text!r}: {_EXPECTED}")


@cache
def _iana_keys() -> dict[str, str]:
    # Read once: the names of the zone database, by lower-case name.
    return {key.lower(): key for key in available_timezones()}


def zone_id(zone: tzinfo) -> str:
    """The id `parse_zone` understands for a zone it returned: IANA key or Java-style fixed name."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    return zone.tzname(None) or "GMT"


def offset_minutes(delta: timedelta | None) -> int:
    """A UTC offset in whole minutes, cut towards zero as Java does (an LMT offset of -7:52:58 is -7:52)."""
    seconds = int((delta or timedelta()).total_seconds())
    return seconds // 60 if seconds >= 0 else -(-seconds // 60)


def zone_name(local: datetime, long: bool) -> str:
    """Java's `z` (short) or `zzzz` (long) name of the zone of an aware local time.

    Zones Java names differently from the tz database (America/Sao_Paulo is BRT, not -03) come from Java's data;
    other zones use the tz database abbreviation when it is a word, else `GMT±hh:mm` as Java does for custom zones.
    """
    zone = local.tzinfo
    if isinstance(zone, ZoneInfo):
        names = JAVA_ZONES.get(zone.key)
        if names is not None:
            dst = local.dst() or timedelta()
            # Europe/Dublin keeps a negative DST in winter: its summer is daylight time by Java's reckoning.
            daylight = dst > timedelta() or (
                not dst and names.savings > 0 and offset_minutes(local.utcoffset()) == names.raw + names.savings
            )
            if daylight:
                return names.long_dst if long else names.short_dst
            return names.long_std if long else names.short_std
        abbreviation = local.tzname() or ""
        if not abbreviation.isalpha():
            return offset_name(offset_minutes(local.utcoffset()))
        return _LONG_NAMES.get(abbreviation, abbreviation) if long else abbreviation
    short = local.tzname() or offset_name(offset_minutes(local.utcoffset()))
    return _LONG_NAMES.get(short, short) if long else short


def text_zone_offset(name: str, zone: tzinfo) -> int | None:
    """Java's reading of a zone name in date text: a UTC offset in minutes, or None when `zone` decides.

    Like `SimpleDateFormat`, the names of the formatter's own zone win (with `zone` = Asia/Kolkata, IST is India;
    otherwise it is Israel); a standard name gives the raw offset, a daylight name raw plus DST savings, and a name
    the zone uses for both (or a daylight name of a zone without DST) lets the zone decide by date.

    Raises:
        DateFormatError: the name is not one Java reads.
    """
    lowered = name.lower()
    names = JAVA_ZONES.get(zone.key) if isinstance(zone, ZoneInfo) else None
    if names is not None:
        candidates = (names.long_std, names.short_std, names.long_dst, names.short_dst)
        for index, candidate in enumerate(candidates):
            if candidate.lower() != lowered:
                continue
            if index < 2:
                return None if candidate.lower() == candidates[index + 2].lower() else names.raw
            return None if names.savings == 0 else names.raw + names.savings
    minutes = _TEXT_ZONES_LOWER.get(lowered)
    if minutes is None:
        raise DateFormatError(f"unknown time zone name {name!r} in date text")
    return minutes
