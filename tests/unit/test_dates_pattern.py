"""DateFormat: every SimpleDateFormat letter, quoting, Java's parse rules, DST, epoch keywords, and the formats of
the Open Connectors "Polling Date Formats" table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from service.dates import DateFormat, DateFormatError

# Friday 2024-01-05 10:00:00.123456 UTC.
T = datetime(2024, 1, 5, 10, 0, 0, 123456, tzinfo=UTC)


def utc(year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0,
        micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pattern", "when", "expected"),
    [
        ("G GG GGGG", T, "AD AD AD"),
        ("y yy yyy yyyy yyyyy", T, "2024 24 2024 2024 02024"),
        ("Y YY YYYY", utc(2024, 12, 31), "2025 25 2025"),  # week year: that Tuesday is in week 1 of 2025
        ("M MM MMM MMMM MMMMM", T, "1 01 Jan January January"),
        ("L LL LLL LLLL", utc(2024, 9, 3), "9 09 Sep September"),
        ("w ww", T, "1 01"),
        ("w", utc(2024, 1, 7), "2"),  # weeks start on Sunday (Locale.US)
        ("w", utc(2024, 12, 29), "1"),  # the week holding Jan 1 is week 1 of the next year
        ("W", T, "1"),
        ("W", utc(2024, 1, 7), "2"),
        ("D DD DDD", T, "5 05 005"),
        ("D", utc(2024, 12, 31), "366"),
        ("d dd", T, "5 05"),
        ("F", T, "1"),
        ("F", utc(2024, 1, 12), "2"),
        ("E EE EEE EEEE EEEEE", T, "Fri Fri Fri Friday Friday"),
        ("u uu", T, "5 05"),
        ("u", utc(2024, 1, 7), "7"),
        ("a", T, "AM"),
        ("a", utc(2024, 1, 5, 12), "PM"),
        ("H HH", utc(2024, 1, 5, 0, 5), "0 00"),
        ("k kk", utc(2024, 1, 5, 0, 5), "24 24"),
        ("K KK", utc(2024, 1, 5, 13), "1 01"),
        ("K", utc(2024, 1, 5, 12), "0"),
        ("h hh", utc(2024, 1, 5, 0), "12 12"),
        ("h", utc(2024, 1, 5, 13), "1"),
        ("m mm s ss", utc(2024, 1, 5, 10, 7, 3), "7 07 3 03"),
        ("S SS SSS SSSS SSSSSS SSSSSSSSS", T, "1 12 123 1234 123456 123456000"),  # a fraction of a second
        ("z zzzz", T, "UTC Coordinated Universal Time"),
        ("Z ZZZZ", T, "+0000 +0000"),
        ("X XX XXX", T, "Z Z Z"),
    ],
)
def test_format_every_letter(pattern: str, when: datetime, expected: str) -> None:
    assert DateFormat(pattern).format(when) == expected


@pytest.mark.parametrize(
    ("pattern", "tz", "when", "expected"),
    [
        ("z zzzz Z X XX XXX", "America/Los_Angeles", T, "PST Pacific Standard Time -0800 -08 -0800 -08:00"),
        ("z zzzz Z XXX", "America/Los_Angeles", utc(2024, 7, 5), "PDT Pacific Daylight Time -0700 -07:00"),
        ("z zzzz XXX", "Asia/Kolkata", T, "IST India Standard Time +05:30"),
        ("X", "Asia/Kolkata", T, "+05"),  # one X: hours only
        ("z zzzz", "America/Sao_Paulo", T, "BRT Brasilia Standard Time"),  # Java's name, not the tz database's
        ("z zzzz", "Europe/Dublin", utc(2024, 7, 5), "IST Irish Standard Time"),
        ("z zzzz", "Europe/Dublin", T, "GMT Greenwich Mean Time"),
        ("z zzzz Z", "GMT-06:00", T, "GMT-06:00 GMT-06:00 -0600"),
        ("z zzzz", "EST", utc(2024, 7, 5), "EST Eastern Standard Time"),  # Java's EST is a fixed offset
        ("z", "GMT", T, "GMT"),
        ("HH:mm z", "Pacific/Chatham", T, "23:45 GMT+13:45"),  # no word for it: GMT offset, as Java does
    ],
)
def test_format_zones(pattern: str, tz: str, when: datetime, expected: str) -> None:
    assert DateFormat(pattern, tz).format(when) == expected


def test_quoting() -> None:
    assert DateFormat("h 'o''clock' a").format(utc(2024, 1, 5, 15)) == "3 o'clock PM"
    assert DateFormat("yyyy''MM").format(T) == "2024'01"
    assert DateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'").format(T) == "2024-01-05T10:00:00Z"
    assert DateFormat("'{'yyyy'}' 100%").format(T) == "{2024} 100%"
    assert DateFormat("h 'o''clock' a").parse("3 o'clock PM") == utc(1970, 1, 1, 15)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("yyyy-MM-ddTHH:mm:ss", "illegal pattern character 'T'"),
        ("yyyy-MM-dd'T'HH:mm:ssXXX'", "unterminated quote"),  # as in Open Connectors' own docs: Java rejects it
        ("XXXX", "X takes 1 to 3 letters"),
        ("", "empty date pattern"),
    ],
)
def test_invalid_patterns(pattern: str, reason: str) -> None:
    with pytest.raises(DateFormatError, match=reason):
        DateFormat(pattern)


def test_format_needs_an_aware_datetime() -> None:
    with pytest.raises(DateFormatError, match="naive"):
        DateFormat("yyyy").format(datetime(2024, 1, 5))


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("G yyyy-MM-dd", "ad 2024-01-05", utc(2024, 1, 5)),
        ("yyyy-MM-dd", "2024-1-5", utc(2024, 1, 5)),  # digit counts are not checked, as in Java
        ("yyyy-MM-dd", " 2024- 01-05", utc(2024, 1, 5)),  # spaces before a number are skipped
        ("yyyy-MM-dd", "2024-01-05T10:00:00Z", utc(2024, 1, 5)),  # text after the pattern is ignored
        ("yyyyMMdd", "2024015", utc(2024, 1, 5)),  # abutting numbers take at most their width
        ("yy-MM-dd", "24-01-05", utc(2024, 1, 5)),  # two digits: within 80 years before and 20 after now
        ("yy-MM-dd", "2024-01-05", utc(2024, 1, 5)),  # more digits: literal
        ("YYYY-ww-u", "2025-01-2", utc(2024, 12, 31)),  # week date
        ("YYYY-'W'ww-EEE", "2025-W01-Tue", utc(2024, 12, 31)),
        ("LLL d, yyyy", "sep 3, 2024", utc(2024, 9, 3)),
        ("MMMM d yyyy", "SEPTEMBER 3 2024", utc(2024, 9, 3)),
        ("MMM d yyyy", "September 3 2024", utc(2024, 9, 3)),  # short and long names both read
        ("MMM", "Sept", utc(1970, 9, 1)),  # "Sep" matches; the "t" after the pattern is ignored
        ("yyyy-D", "2024-366", utc(2024, 12, 31)),
        ("yyyy-MM-F-E", "2024-01-2-Mon", utc(2024, 1, 8)),  # second Monday
        ("yyyy-MM-W-E", "2024-01-2-Sun", utc(2024, 1, 7)),
        ("yyyy-MM EEE", "2024-01 Wed", utc(2024, 1, 3)),  # weekday alone: its first occurrence in the month
        ("kk:mm", "24:00", utc(1970, 1, 1, 0)),
        ("hh:mm a", "12:00 AM", utc(1970, 1, 1, 0)),
        ("hh:mm a", "12:30 pm", utc(1970, 1, 1, 12, 30)),
        ("KK:mm a", "11:00 PM", utc(1970, 1, 1, 23)),
        ("HH:mm a", "13:00 PM", utc(1970, 1, 1, 13)),
        ("HH:mm", "10:30", utc(1970, 1, 1, 10, 30)),  # unset fields take Java's defaults
        ("ss.SSS", "05.5", utc(1970, 1, 1, 0, 0, 5, 500000)),  # S is a fraction: .5 is 500 ms (Java: 5 ms)
        ("ss.SSS", "05.123456789", utc(1970, 1, 1, 0, 0, 5, 123456)),  # truncated to microseconds
        ("ss.SSSSSS", "05.000001", utc(1970, 1, 1, 0, 0, 5, 1)),
        ("yyyy-MM-dd HH:mm:ss", "2024-01-05 9:5:3", utc(2024, 1, 5, 9, 5, 3)),
    ],
)
def test_parse_java_rules(pattern: str, text: str, expected: datetime) -> None:
    assert DateFormat(pattern).parse(text) == expected


@pytest.mark.parametrize(
    ("pattern", "text", "reason"),
    [
        ("EEE, dd MMM yyyy", "Mon, 05 Jan 2024", "day of week Mon does not agree with 2024-01-05"),
        ("yyyy-MM-dd", "2024-02-30", "day is out of range"),
        ("yyyy-MM-dd", "2024-13-01", "month must be in 1..12"),
        ("yyyy-MM-dd", "0000-01-05", "year 0 is out of range"),
        ("yyyy-MM-dd", "2024-01--5", "does not match the pattern"),  # no signs
        ("yyyyMMdd", "20240", "does not match the pattern"),
        ("yyyyMMdd'T'HHmmss", "1996\t0702T061942", "month must be in 1..12"),  # the tab eats a digit of MM
        ("HH:mm a", "13:00 AM", "am pm 0 does not agree"),
        ("hh:mm", "13:00", "13 is not in 1..12"),
        ("kk:mm", "00:00", "0 is not in 1..24"),
        ("yyyy-D", "2023-366", "year 2023 does not agree"),
        ("yyyy-ww-EEE", "2025-01-Sun", "year 2025 does not agree"),  # that Sunday is 2024-12-29
        ("yyyy-MM-W-E", "2024-01-1-Sun", "does not agree with 2023-12-31"),
        ("MMMM yyyy", " November 1999", "does not match the pattern"),  # names are not preceded by spaces
        ("yyyy-MM-dd HH:mm:ss", "2024-01-05\t10:00:00", "does not match the pattern"),  # literal ' ' is not a tab
        ("G yyyy", "BC 2024", "BC dates are not supported"),
        ("yyyy-MM-dd'T'HH:mm:ss'Z'", "yesterday", "does not match the pattern"),
    ],
)
def test_parse_errors_name_pattern_text_and_reason(pattern: str, text: str, reason: str) -> None:
    with pytest.raises(DateFormatError) as caught:
        DateFormat(pattern).parse(text)
    message = str(caught.value)
    assert repr(pattern) in message
    assert repr(text) in message
    assert reason in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 PDT", utc(2024, 1, 5, 17)),  # a daylight name: raw + 1 h
        ("yyyy-MM-dd HH:mm z", "2024-07-05 10:00 PST", utc(2024, 7, 5, 18)),  # a standard name: raw offset
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 EST", utc(2024, 1, 5, 15)),
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 UTC", utc(2024, 1, 5, 10)),
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 gmt", utc(2024, 1, 5, 10)),
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 GMT+05:30", utc(2024, 1, 5, 4, 30)),
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 GMT-5:00", utc(2024, 1, 5, 15)),
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 Pacific Daylight Time", utc(2024, 1, 5, 17)),
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 -0700", utc(2024, 1, 5, 17)),
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 IST", utc(2024, 1, 5, 8)),  # Java reads IST as Israel...
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 CST", utc(2024, 1, 5, 16)),  # ...and CST as US Central
        ("yyyy-MM-dd HH:mm Z", "2024-01-05 10:00 -0700", utc(2024, 1, 5, 17)),
        ("yyyy-MM-dd HH:mm Z", "2024-01-05 10:00 +1400", utc(2024, 1, 4, 20)),
        ("yyyy-MM-dd HH:mm Z", "2024-01-05 10:00 -1300", utc(2024, 1, 5, 23)),
        ("yyyy-MM-dd HH:mm Z", "2024-01-05 10:00 PDT", utc(2024, 1, 5, 17)),  # Z reads names too
        ("yyyy-MM-dd HH:mm X", "2024-01-05 10:00 Z", utc(2024, 1, 5, 10)),
        ("yyyy-MM-dd HH:mm X", "2024-01-05 10:00 -07", utc(2024, 1, 5, 17)),
        ("yyyy-MM-dd HH:mm X", "2024-01-05 10:00 -0730", utc(2024, 1, 5, 17)),  # X: the hours; ":30" ignored
        ("yyyy-MM-dd HH:mm XX", "2024-01-05 10:00 -0700", utc(2024, 1, 5, 17)),
        ("yyyy-MM-dd HH:mm XXX", "2024-01-05 10:00 -07:00", utc(2024, 1, 5, 17)),
        ("yyyy-MM-dd HH:mm XXX", "2024-01-05 10:00 Z", utc(2024, 1, 5, 10)),
    ],
)
def test_parse_zones_in_text(pattern: str, text: str, expected: datetime) -> None:
    assert DateFormat(pattern, "America/Denver").parse(text) == expected


def test_zone_names_of_the_formatter_zone_win() -> None:
    # Java looks in the formatter's own zone first: with Asia/Kolkata, IST is India.
    assert DateFormat("HH:mm z", "Asia/Kolkata").parse("10:00 IST") == utc(1970, 1, 1, 4, 30)
    assert DateFormat("HH:mm z", "Europe/Dublin").parse("10:00 IST") == utc(1970, 1, 1, 9)  # Irish summer time


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("yyyy-MM-dd HH:mm Z", "2024-01-05 10:00 -07:00"),  # RFC 822 has no colon
        ("yyyy-MM-dd HH:mm Z", "2024-01-05 10:00 +1401"),  # beyond GregorianCalendar's +14:00
        ("yyyy-MM-dd HH:mm Z", "2024-01-05 10:00 -1301"),
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 GMT+5"),  # GMT needs hh:mm
        ("yyyy-MM-dd HH:mm z", "2024-01-05 10:00 Z"),  # Z is no zone name
        ("yyyy-MM-dd HH:mm XXX", "2024-01-05 10:00 -0700"),
        ("yyyy-MM-dd HH:mm XX", "2024-01-05 10:00 -07:00"),
        ("yyyy-MM-dd HH:mm XXX", "2024-01-05 10:00 z"),
        ("yyyy-MM-dd HH:mm XXX", "2024-01-05 10:00 +14:30"),
        ("yyyy-MM-dd HH:mm XXX", "2024-01-05 10:00 +05:60"),
    ],
)
def test_invalid_zones_in_text(pattern: str, text: str) -> None:
    with pytest.raises(DateFormatError):
        DateFormat(pattern).parse(text)


def test_text_without_zone_is_read_in_the_configured_zone() -> None:
    # A quoted 'Z' is a literal: the zone is the configured one, as in Java.
    assert DateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'", "America/Denver").parse("2024-01-05T10:00:00Z") == utc(
        2024, 1, 5, 17
    )
    assert DateFormat("yyyy-MM-dd HH:mm:ss", "GMT-06:00").parse("2024-01-05 10:00:00") == utc(2024, 1, 5, 16)
    assert DateFormat("yyyy-MM-dd HH:mm:ss", "EST").parse("2024-07-05 10:00:00") == utc(2024, 7, 5, 15)
    assert DateFormat("yyyy-MM-dd HH:mm:ss", "PST").parse("2024-07-05 10:00:00") == utc(2024, 7, 5, 17)


class TestDaylightSaving:
    LA = "America/Los_Angeles"

    def test_gap_is_an_error(self) -> None:
        # 2024-03-10 02:30 does not exist in Los Angeles: Java (non-lenient) rejects it.
        with pytest.raises(DateFormatError, match="does not agree"):
            DateFormat("yyyy-MM-dd HH:mm:ss", self.LA).parse("2024-03-10 02:30:00")
        with pytest.raises(DateFormatError):
            DateFormat("yyyy-MM-dd'T'HH:mm:ss", self.LA).parse("2024-03-10T02:30:00")  # the ISO fast path too

    def test_around_the_gap(self) -> None:
        parse = DateFormat("yyyy-MM-dd HH:mm:ss", self.LA).parse
        assert parse("2024-03-10 01:59:59") == utc(2024, 3, 10, 9, 59, 59)
        assert parse("2024-03-10 03:00:00") == utc(2024, 3, 10, 10)

    def test_overlap_takes_standard_time(self) -> None:
        # 01:30 happens twice on 2024-11-03; Java takes the later, standard-time one (PST).
        assert DateFormat("yyyy-MM-dd HH:mm:ss", self.LA).parse("2024-11-03 01:30:00") == utc(2024, 11, 3, 9, 30)
        assert DateFormat("yyyy-MM-dd'T'HH:mm:ss", self.LA).parse("2024-11-03T01:30:00") == utc(2024, 11, 3, 9, 30)

    def test_overlap_with_a_zone_in_the_text(self) -> None:
        fmt = DateFormat("yyyy-MM-dd HH:mm:ss z", self.LA)
        assert fmt.parse("2024-11-03 01:30:00 PDT") == utc(2024, 11, 3, 8, 30)
        assert fmt.parse("2024-11-03 01:30:00 PST") == utc(2024, 11, 3, 9, 30)

    def test_midnight_gap_moves_a_date_only_pattern(self) -> None:
        # Sao Paulo skipped 2018-11-04 00:00-01:00: a date still parses (to 01:00), a time in the gap does not.
        assert DateFormat("yyyy-MM-dd", "America/Sao_Paulo").parse("2018-11-04") == utc(2018, 11, 4, 3)
        with pytest.raises(DateFormatError):
            DateFormat("yyyy-MM-dd HH:mm", "America/Sao_Paulo").parse("2018-11-04 00:30")

    def test_format_across_the_change(self) -> None:
        fmt = DateFormat("yyyy-MM-dd HH:mm z", self.LA)
        assert fmt.format(utc(2024, 11, 3, 8, 30)) == "2024-11-03 01:30 PDT"
        assert fmt.format(utc(2024, 11, 3, 9, 30)) == "2024-11-03 01:30 PST"


class TestEpochKeywords:
    def test_milliseconds(self) -> None:
        fmt = DateFormat("milliseconds")
        assert fmt.format(T) == "1704448800123"
        assert fmt.parse(1704448800123) == utc(2024, 1, 5, 10, 0, 0, 123000)
        assert fmt.parse("1704448800123") == utc(2024, 1, 5, 10, 0, 0, 123000)  # also as a string
        assert fmt.parse(" 1704448800123 ") == utc(2024, 1, 5, 10, 0, 0, 123000)
        assert fmt.parse(1.7044488001235e12) == utc(2024, 1, 5, 10, 0, 0, 123500)
        assert fmt.parse("-1000") == utc(1969, 12, 31, 23, 59, 59)
        assert DateFormat("Milliseconds").parse("0") == utc(1970, 1, 1)

    @pytest.mark.parametrize(
        ("keyword", "text", "expected"),
        [
            ("epoch", "1704448800123", "1704448800123"),  # milliseconds, like ${epoch}
            ("epoch:ms", "1704448800123", "1704448800123"),
            ("epoch:s", "1704448800", "1704448800"),
            ("epoch:s", "1704448800.75", "1704448800"),
            ("epoch:us", "1704448800123456", "1704448800123456"),
        ],
    )
    def test_units(self, keyword: str, text: str, expected: str) -> None:
        fmt = DateFormat(keyword)
        assert fmt.format(fmt.parse(text)) == expected

    @pytest.mark.parametrize("value", ["", "12a", "1e3x", True, None, [1]])
    def test_invalid(self, value: object) -> None:
        with pytest.raises(DateFormatError, match="expected a number of milliseconds since 1970"):
            DateFormat("milliseconds").parse(value)  # type: ignore[arg-type]

    def test_precision(self) -> None:
        assert DateFormat("epoch:s").precision == timedelta(seconds=1)
        assert DateFormat("milliseconds").precision == timedelta(milliseconds=1)
        assert DateFormat("yyyy-MM-dd").precision == timedelta(days=1)
        assert DateFormat("HH:mm").precision == timedelta(minutes=1)
        assert DateFormat("ss.SSS").precision == timedelta(milliseconds=1)


# The "Polling Date Formats" table of the Open Connectors documentation (Element Builder, Events), in its order.
# Its examples are not texts these patterns accept (e.g. "2017-08-30 13:19:29-6:00" lacks the 'T'); these are.
DOCUMENTED_FORMATS = [
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2017-08-30T13:19:29-06:00", utc(2017, 8, 30, 19, 19, 29)),
    ("yyyy-MM-dd'T'HH:mm:ssZ", "2017-08-30T13:19:29+0000", utc(2017, 8, 30, 13, 19, 29)),
    ("yyyy-MM-dd'T'HH:mm:ss'Z'", "2017-08-30T13:19:29Z", utc(2017, 8, 30, 13, 19, 29)),
    ("yyyy-MM-dd", "2017-08-30", utc(2017, 8, 30)),
    ("yyyy/MM/dd HH:mm:ss", "2017/08/30 13:19:29", utc(2017, 8, 30, 13, 19, 29)),
    ("MM/dd/yyyy'T'HH:mm:ssXXX", "08/30/2017T13:19:29-06:00", utc(2017, 8, 30, 19, 19, 29)),
    ("MM/dd/yyyy", "08/30/2017", utc(2017, 8, 30)),
    ("dd/MM/yyyy'T'HH:mm:ssXXX", "30/08/2017T13:19:29-06:00", utc(2017, 8, 30, 19, 19, 29)),
    ("dd/MM/yyyy", "30/08/2017", utc(2017, 8, 30)),
    ("EEE, dd MMM yyyy HH:mm:ss Z", "Wed, 30 Aug 2017 13:19:29 +0000", utc(2017, 8, 30, 13, 19, 29)),
]
# Formats real configurations use beyond the table (Salesforce, Zendesk, HubSpot, NetSuite...).
COMMON_FORMATS = [
    ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2017-08-30T13:19:29.120Z", utc(2017, 8, 30, 13, 19, 29, 120000)),
    ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2017-08-30T13:19:29.120+02:00", utc(2017, 8, 30, 11, 19, 29, 120000)),
    ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2017-08-30T13:19:29.120+0000", utc(2017, 8, 30, 13, 19, 29, 120000)),
    ("yyyy-MM-dd'T'HH:mm:ss.SSSX", "2017-08-30T13:19:29.120Z", utc(2017, 8, 30, 13, 19, 29, 120000)),
    ("yyyy-MM-dd HH:mm:ss", "2017-08-30 13:19:29", utc(2017, 8, 30, 13, 19, 29)),
    ("MM/dd/yyyy HH:mm:ss", "08/30/2017 13:19:29", utc(2017, 8, 30, 13, 19, 29)),
    ("milliseconds", "1504099169000", utc(2017, 8, 30, 13, 19, 29)),
]


@pytest.mark.parametrize(("pattern", "text", "instant"), DOCUMENTED_FORMATS + COMMON_FORMATS)
def test_open_connectors_formats(pattern: str, text: str, instant: datetime) -> None:
    fmt = DateFormat(pattern, "GMT")
    assert fmt.parse(text) == instant
    assert fmt.parse(fmt.format(instant)) == instant


def test_documented_examples_that_java_rejects() -> None:
    # The table's examples use a space for 'T' and one-digit hours in offsets; Java rejects both, and so do we.
    with pytest.raises(DateFormatError):
        DateFormat("yyyy-MM-dd'T'HH:mm:ssXXX").parse("2017-08-30 13:19:29-6:00")
    with pytest.raises(DateFormatError):
        DateFormat("yyyy-MM-dd'T'HH:mm:ssXXX").parse("2017-08-30T13:19:29-6:00")


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("yyyy-MM-dd'T'HH:mm:ss'Z'", "2024-01-05T10:00:00Z"),
        ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2024-01-05T10:00:00.120Z"),
        ("yyyy-MM-dd'T'HH:mm:ssXXX", "2024-01-05T10:00:00+05:30"),
        ("yyyy-MM-dd'T'HH:mm:ssXXX", "2024-01-05T10:00:00Z"),
        ("yyyy-MM-dd'T'HH:mm:ssX", "2024-01-05T10:00:00-07"),
        ("yyyy-MM-dd'T'HH:mm:ssZ", "2024-01-05T10:00:00-0700"),
        ("yyyy-MM-dd HH:mm:ss", "2024-01-05 10:00:00"),
        ("yyyy-MM-dd'T'HH:mm", "2024-01-05T10:00"),
        ("yyyy-MM-dd", "2024-01-05"),
    ],
)
@pytest.mark.parametrize("tz", ["UTC", "GMT-06:00", "America/New_York"])
def test_iso_fast_path_agrees_with_the_full_parser(pattern: str, text: str, tz: str) -> None:
    fmt = DateFormat(pattern, tz)
    full = DateFormat(pattern + "''", tz)  # a trailing quote literal: same meaning, no fast path
    assert fmt.parse(text) == full.parse(text + "'")
    assert fmt.parse(text).tzinfo is UTC


def test_results_are_utc_and_formats_compare_by_pattern_and_zone() -> None:
    parsed = DateFormat("yyyy-MM-dd'T'HH:mm:ssXXX").parse("2024-01-05T10:00:00+05:30")
    assert parsed.tzinfo is UTC
    assert parsed == datetime(2024, 1, 5, 10, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert DateFormat("yyyy", "PST") == DateFormat("yyyy", "America/Los_Angeles")
    assert DateFormat("yyyy", "UTC") != DateFormat("yyyy", "GMT")
    assert repr(DateFormat("yyyy", "PST")) == "DateFormat('yyyy', tz='PST')"
    assert DateFormat("yyyyMMdd").parse(20240105) == utc(2024, 1, 5)  # a JSON number is read as its digits
