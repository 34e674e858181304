"""Property tests: `parse(format(t))` is `t` truncated to the pattern's precision, for random instants and zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from service.dates import DateFormat, parse_zone, render_url

# Patterns that name an instant completely (date, time and, where the zone may be ambiguous, the zone).
PATTERNS = [
    "yyyy-MM-dd'T'HH:mm:ss'Z'",
    "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
    "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "yyyy-MM-dd'T'HH:mm:ssXXX",
    "yyyy-MM-dd'T'HH:mm:ssZ",
    "yyyy-MM-dd'T'HH:mm:ss.SXX",  # one X would drop the minutes of +05:30
    "EEE, dd MMM yyyy HH:mm:ss Z",
    "EEEE, MMMM d, yyyy h:mm:ss.SS a z",
    "MM/dd/yyyy HH:mm:ss",
    "yyyy-MM-dd HH:mm:ss",
    "yyyyMMddHHmmssSSS",
    "G yyyy-DDD kk:mm:ss zzzz",
    "YYYY-'W'ww-u HH:mm:ss",
    "yyyy-MM-F-EEE KK:mm:ss a",
    "yyyy-MM-W-E HH:mm:ss",
    "yyyy-MM-dd",
    "milliseconds",
    "epoch:s",
    "epoch:us",
]
ZONES = ["UTC", "GMT", "America/Los_Angeles", "America/New_York", "Europe/Berlin", "Europe/Dublin",
         "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns", "GMT-06:00", "+05:30", "EST", "PST", "IST"]

# From 1972: earlier offsets of some zones have seconds (Dublin 1916: -00:25:21) that no offset pattern prints.
instants = st.datetimes(min_value=datetime(1972, 1, 1), max_value=datetime(9998, 12, 1), timezones=st.just(UTC))


def truncate(when: datetime, zone: tzinfo, precision: timedelta) -> datetime:
    """`when` cut to `precision` on the zone's wall clock."""
    if precision <= timedelta(microseconds=1):
        return when
    local = when.astimezone(zone)
    wall = local.replace(tzinfo=None)
    origin = datetime(1, 1, 1)
    cut = origin + (wall - origin) // precision * precision
    return cut.replace(tzinfo=zone, fold=local.fold).astimezone(UTC)


def unambiguous(when: datetime, zone: tzinfo) -> bool:
    """Whether the wall time of `when` names one instant in `zone` (no repeated hour)."""
    if not isinstance(zone, ZoneInfo):
        return True
    wall = when.astimezone(zone).replace(tzinfo=None)
    return wall.replace(tzinfo=zone).utcoffset() == wall.replace(tzinfo=zone, fold=1).utcoffset()


@settings(max_examples=400, deadline=None)
@given(when=instants, pattern=st.sampled_from(PATTERNS), tz=st.sampled_from(ZONES))
def test_parse_of_format_is_the_instant_at_the_pattern_precision(when: datetime, pattern: str, tz: str) -> None:
    fmt = DateFormat(pattern, tz)
    zone = parse_zone(tz)
    text = fmt.format(when)
    expected = truncate(when, zone, fmt.precision)
    has_zone = any(letter in pattern for letter in "zZX") or fmt.unit is not None
    if not has_zone and not unambiguous(expected, zone):
        # A repeated wall time without a zone reads as standard time (the later instant), as in Java.
        wall = expected.astimezone(zone).replace(tzinfo=None)
        expected = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    assert fmt.parse(text) == expected, text
    assert fmt.format(fmt.parse(text)) == text


@settings(max_examples=200, deadline=None)
@given(when=instants, tz=st.sampled_from(ZONES))
def test_fast_path_and_full_parser_agree(when: datetime, tz: str) -> None:
    fast = DateFormat("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", tz)
    full = DateFormat("yyyy-MM-dd'T'HH:mm:ss.SSSXXX''", tz)  # a trailing literal: no fast path
    text = fast.format(when)
    assert fast.parse(text) == full.parse(text + "'")


@settings(max_examples=200, deadline=None)
@given(since=instants, tz=st.sampled_from(ZONES))
def test_rendered_placeholders_parse_back(since: datetime, tz: str) -> None:
    pattern = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"
    url = render_url(f"/x?since=${{dateTimeZone:{tz}:{pattern}}}", since, since)
    text = url.removeprefix("/x?since=").replace("%2B", "+")
    assert DateFormat(pattern).parse(text) == truncate(since, UTC, timedelta(milliseconds=1))
