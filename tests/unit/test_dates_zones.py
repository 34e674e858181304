"""Configured time zones: every form Open Connectors configurations use, and what each means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.dates import DateFormat, DateFormatError, parse_zone

WINTER = datetime(2024, 1, 5, 12, tzinfo=UTC)
SUMMER = datetime(2024, 7, 5, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "winter", "summer"),
    [
        ("America/New_York", -5, -4),
        ("america/new_york", -5, -4),  # case slips are accepted (Java would fall back to GMT silently)
        ("US/Pacific", -8, -7),
        ("Europe/Berlin", 1, 2),
        ("Asia/Kolkata", 5.5, 5.5),
        ("EST", -5, -5),  # Java's three fixed ids
        ("MST", -7, -7),
        ("HST", -10, -10),
        ("PST", -8, -7),  # Java's other three-letter ids are regions
        ("CST", -6, -5),
        ("IST", 5.5, 5.5),
        ("AST", -9, -8),  # Java's AST is Alaska
        ("PDT", -7, -7),  # a daylight name: its fixed offset (Java would fall back to GMT silently)
        ("GMT", 0, 0),
        ("UTC", 0, 0),
        ("Z", 0, 0),
        ("", 0, 0),  # Open Connectors: empty means GMT
        ("GMT-06:00", -6, -6),
        ("GMT-6", -6, -6),
        ("GMT+0530", 5.5, 5.5),
        ("UTC+05:30", 5.5, 5.5),
        ("-8:00", -8, -8),  # as in `${dateTimeZone:-8:00:...}`
        ("+6:00", 6, 6),
        ("+05:30", 5.5, 5.5),
        ("-0800", -8, -8),
        ("-08", -8, -8),
        ("+5", 5, 5),
    ],
)
def test_zone_forms(text: str, winter: float, summer: float) -> None:
    zone = parse_zone(text)
    assert WINTER.astimezone(zone).utcoffset() == timedelta(hours=winter)
    assert SUMMER.astimezone(zone).utcoffset() == timedelta(hours=summer)


def test_java_ids_map_to_regions() -> None:
    assert parse_zone("PST") == ZoneInfo("America/Los_Angeles")
    assert parse_zone("CTT") == ZoneInfo("Asia/Shanghai")
    assert parse_zone("UTC") is UTC


@pytest.mark.parametrize("text", ["Mars/Olympus", "GMT+25:00", "+05:61", "PSTX", "America/"])
def test_unknown_zones_are_errors(text: str) -> None:
    with pytest.raises(DateFormatError, match="time zone"):
        parse_zone(text)
    with pytest.raises(DateFormatError):
        DateFormat("yyyy", text)


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("UTC", "UTC|Coordinated Universal Time"),
        ("GMT", "GMT|Greenwich Mean Time"),
        ("PST", "PST|Pacific Standard Time"),
        ("EST", "EST|Eastern Standard Time"),
        ("HST", "HST|Hawaii Standard Time"),
        ("PDT", "PDT|Pacific Daylight Time"),
        ("-8:00", "GMT-08:00|GMT-08:00"),
        ("Europe/Paris", "CET|Central European Standard Time"),
        ("Asia/Tokyo", "JST|Japan Standard Time"),
        ("Asia/Kathmandu", "NPT|Nepal Time"),
    ],
)
def test_zone_names_as_java_prints_them(tz: str, expected: str) -> None:
    assert DateFormat("z|zzzz", tz).format(WINTER) == expected
