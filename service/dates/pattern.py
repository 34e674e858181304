"""`DateFormat`: Java `SimpleDateFormat` patterns (Locale.US, non-lenient) and epoch keywords, compiled once.

A pattern compiles (and is cached) into a formatter and a parser; ISO-shaped patterns also get a fast path that
checks the exact shape with one regex and hands the text to `datetime.fromisoformat`, falling back to the full
parser for anything else (so the fast path never accepts what the full parser would not).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from service.dates.errors import DateFormatError
from service.dates.formatter import Token, build_formatter, offset_text
from service.dates.parser import Parser, build_parser, localize
from service.dates.zones import parse_zone, zone_id

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PATTERN_LETTERS = frozenset("GyMdkHmsSEDFwWahKzZYuXL")
# Keyword formats and their units per second; `epoch` alone is milliseconds, as `${epoch}` is in URLs.
EPOCH_KEYWORDS = {"milliseconds": 1_000, "epoch": 1_000, "epoch:ms": 1_000, "epoch:s": 1, "epoch:us": 1_000_000}
_EPOCH_TEXT = re.compile(r"[ \t]*(-?[0-9]+(?:\.[0-9]+)?)[ \t]*", re.ASCII)
_fromisoformat = datetime.fromisoformat


def tokenize(pattern: str) -> tuple[Token, ...]:
    """Split a pattern into literals and (letter, count) fields by Java's rules (`''` is a quote, in quotes too).

    Raises:
        DateFormatError: an unquoted letter that is no pattern letter, an unterminated quote, or `XXXX`.
    """
    tokens: list[Token] = []
    literal: list[str] = []
    index, length, in_quote = 0, len(pattern), False
    while index < length:
        char = pattern[index]
        if char == "'":
            if index + 1 < length and pattern[index + 1] == "'":
                literal.append("'")
                index += 2
                continue
            in_quote = not in_quote
            index += 1
            continue
        if in_quote or not ("a" <= char <= "z" or "A" <= char <= "Z"):
            literal.append(char)
            index += 1
            continue
        if char not in PATTERN_LETTERS:
            raise DateFormatError(f"invalid date pattern {pattern!r}: illegal pattern character {char!r} "
                                  f"(quote literal letters, as in 'T')")
        end = index
        while end < length and pattern[end] == char:
            end += 1
        if char == "X" and end - index > 3:
            raise DateFormatError(f"invalid date pattern {pattern!r}: X takes 1 to 3 letters (X, XX, XXX)")
        if literal:
            tokens.append("".join(literal))
            literal = []
        tokens.append((char, end - index))
        index = end
    if in_quote:
        raise DateFormatError(f"invalid date pattern {pattern!r}: unterminated quote")
    if literal:
        tokens.append("".join(literal))
    return tuple(tokens)


_DATE: list[Token] = [("y", 4), "-", ("M", 2), "-", ("d", 2)]
_PLUS = r"\+(?:(?:0[0-9]|1[0-3]){colon}[0-5][0-9]|14{colon}00)"
_MINUS = r"-(?:(?:0[0-9]|1[0-2]){colon}[0-5][0-9]|13{colon}00)"
# Offsets Java accepts (hours <= 23, minutes <= 59, then GregorianCalendar's -13:00..+14:00).
_FAST_ZONES = {
    ("X", 1): r"Z|\+(?:0[0-9]|1[0-4])|-(?:0[0-9]|1[0-3])",
    ("X", 2): "Z|" + _PLUS.format(colon="") + "|" + _MINUS.format(colon=""),
    ("X", 3): "Z|" + _PLUS.format(colon=":") + "|" + _MINUS.format(colon=":"),
}


def _fast_regex(tokens: tuple[Token, ...]) -> tuple[re.Pattern[str], bool] | None:
    """For `yyyy-MM-dd['T'HH:mm[:ss[.S...]]][zone]`: a regex of the exact shape, and whether it holds a zone."""
    if list(tokens[:5]) != _DATE:
        return None
    core, rest = "[0-9]{4}-[0-9]{2}-[0-9]{2}", list(tokens[5:])
    if rest and rest[0] in ("T", " ") and rest[1:4] == [("H", 2), ":", ("m", 2)]:
        core += rest[0] + "[0-9]{2}:[0-9]{2}"
        rest = rest[4:]
        if rest[:2] == [":", ("s", 2)]:
            core += ":[0-9]{2}"
            rest = rest[2:]
            if len(rest) >= 2 and rest[0] == "." and isinstance(rest[1], tuple) and rest[1][0] == "S":
                core += rf"\.[0-9]{{{rest[1][1]}}}"
                rest = rest[2:]
    if not rest:
        return re.compile(f"({core})", re.ASCII), False
    if rest == ["Z"]:
        return re.compile(f"({core})Z", re.ASCII), False
    zone = rest[0]
    if len(rest) == 1 and isinstance(zone, tuple) and zone[0] in "XZ":
        offsets = _FAST_ZONES[zone] if zone[0] == "X" else _FAST_ZONES["X", 2][2:]  # Z: no "Z"
        return re.compile(f"({core}(?:{offsets}))", re.ASCII), True
    return None


def _precision(tokens: tuple[Token, ...]) -> timedelta:
    letters = {token[0]: token[1] for token in tokens if isinstance(token, tuple)}
    if "S" in letters:
        return timedelta(microseconds=10 ** max(0, 6 - letters["S"]))
    if "s" in letters:
        return timedelta(seconds=1)
    if "m" in letters:
        return timedelta(minutes=1)
    return timedelta(hours=1) if set(letters) & set("HkKh") else timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """What a pattern compiles into, shared by every `DateFormat` with that pattern."""

    format: Callable[[datetime], str]
    parser: Parser
    fast: re.Pattern[str] | None
    fast_has_zone: bool
    fast_has_time: bool
    precision: timedelta


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> CompiledPattern:
    """Compile a `SimpleDateFormat` pattern (cached).

    Raises:
        DateFormatError: the pattern is empty or invalid.
    """
    if not pattern:
        raise DateFormatError("empty date pattern: expected a SimpleDateFormat pattern or an epoch keyword")
    tokens = tokenize(pattern)
    fast = _fast_regex(tokens)
    return CompiledPattern(
        format=build_formatter(tokens),
        parser=build_parser(tokens),
        fast=fast[0] if fast else None,
        fast_has_zone=bool(fast and fast[1]),
        fast_has_time=len(tokens) > 5,
        precision=_precision(tokens),
    )


def _epoch_micros(value: object, micros_per_unit: int) -> int:
    """Microseconds since 1970 of a number of units (an int, a float, or decimal text), rounded down."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value * micros_per_unit
    if isinstance(value, str) and (match := _EPOCH_TEXT.fullmatch(value)) is not None:
        number = Decimal(match[1])
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        raise ValueError(value)
    return int((number * micros_per_unit).to_integral_value(rounding="ROUND_FLOOR"))


class DateFormat:
    """A date format as Open Connectors configurations give it: a `SimpleDateFormat` pattern or an epoch keyword.

    `tz` formats, and reads text that names no zone. Parsing returns an aware UTC datetime; a zone in the text
    (z: PDT, UTC, GMT+05:30; Z: -0700; X: Z, -07, -0700, -07:00) wins over `tz`.

    Raises:
        DateFormatError: (constructor) the pattern or the zone is invalid.
    """

    __slots__ = ("_century_start", "_compiled", "_iso_suffix", "_utc", "pattern", "tz", "unit", "zone")

    def __init__(self, pattern: str, tz: str = "UTC") -> None:
        self.pattern = pattern
        self.tz = tz
        self.zone: tzinfo = parse_zone(tz)
        keyword = pattern.strip().lower()
        # Units per second for epoch keywords, None for patterns.
        self.unit: int | None = EPOCH_KEYWORDS.get(keyword)
        self._compiled = None if self.unit is not None else compile_pattern(pattern)
        offset = None if isinstance(self.zone, ZoneInfo) else self.zone.utcoffset(None)
        self._utc = offset == timedelta()
        # Fixed zone: what makes the fast path's wall clock an ISO instant for `fromisoformat`.
        self._iso_suffix: str | None = None
        if offset is not None and self._compiled is not None:
            self._iso_suffix = ("" if self._compiled.fast_has_time else "T00:00") + offset_text(offset, 3)
        self._century_start = EPOCH
        if self._compiled is not None and self._compiled.parser.year_group is not None:
            # Java: two-digit years fall within 80 years before and 20 after the creation of the format.
            now = datetime.now(UTC)
            self._century_start = now.replace(year=now.year - 80, day=min(now.day, 28) if now.month == 2 else now.day)

    @property
    def precision(self) -> timedelta:
        """The smallest unit the format keeps (a day for date-only patterns)."""
        if self.unit is not None:
            return timedelta(microseconds=1_000_000 // self.unit)
        assert self._compiled is not None  # noqa: S101 - set with unit None
        return self._compiled.precision

    def format(self, when: datetime) -> str:
        """Print an aware instant in the format's zone.

        Raises:
            DateFormatError: `when` is naive.
        """
        if when.tzinfo is None or when.utcoffset() is None:
            raise DateFormatError(f"cannot format the naive datetime {when.isoformat()} with {self.pattern!r}: "
                                  "expected a timezone-aware datetime")
        if self.unit is not None:
            return str((when - EPOCH) // timedelta(microseconds=1_000_000 // self.unit))
        assert self._compiled is not None  # noqa: S101 - set with unit None
        return self._compiled.format(when if when.tzinfo is self.zone else when.astimezone(self.zone))

    def parse(self, text: str | int | float) -> datetime:
        """Read a date (a string; a number for epoch keywords) as an aware UTC datetime.

        Raises:
            DateFormatError: the text does not match the format; the message names both.
        """
        compiled = self._compiled
        if compiled is None:
            return self._parse_epoch(text)
        if type(text) is not str:
            if not isinstance(text, int) or isinstance(text, bool):
                raise DateFormatError(f"cannot read {text!r} with the date format {self.pattern!r}: expected text")
            text = str(text)
        if compiled.fast is not None and (match := compiled.fast.fullmatch(text)) is not None:
            try:
                if compiled.fast_has_zone:
                    return _fromisoformat(match[1]).astimezone(UTC)
                if self._iso_suffix is not None:
                    parsed = _fromisoformat(match[1] + self._iso_suffix)
                    return parsed if self._utc else parsed.astimezone(UTC)
                naive = _fromisoformat(match[1])
                aware, moved = localize((*naive.timetuple()[:6], naive.microsecond), self.zone)
                if not moved:
                    return aware.astimezone(UTC)
            except ValueError:
                pass  # Feb 30 and the like: the full parser says why
        try:
            return compiled.parser.parse(text, self.zone, self._century_start)
        except (ValueError, OverflowError) as error:
            raise DateFormatError(f"{text!r} does not match the date format {self.pattern!r}: {error}") from None

    def _parse_epoch(self, value: object) -> datetime:
        assert self.unit is not None  # noqa: S101 - only for keywords
        try:
            return EPOCH + timedelta(microseconds=_epoch_micros(value, 1_000_000 // self.unit))
        except (TypeError, ValueError, OverflowError, InvalidOperation):
            raise DateFormatError(
                f"{value!r} does not match the date format {self.pattern!r}: expected a number of "
                f"{'seconds' if self.unit == 1 else 'microseconds' if self.unit == 1_000_000 else 'milliseconds'} "
                "since 1970-01-01T00:00:00Z"
            ) from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DateFormat):
            return NotImplemented
        return (self.pattern, zone_id(self.zone)) == (other.pattern, zone_id(other.zone))

    def __hash__(self) -> int:
        return hash((self.pattern, zone_id(self.zone)))

    def __repr__(self) -> str:
        return f"DateFormat({self.pattern!r}, tz={self.tz!r})"
