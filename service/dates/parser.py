"""Parsing side of a compiled pattern: a regex reading text as `SimpleDateFormat.parse` does, then Java's checks.

Like Java: spaces and tabs before a number or a zone are skipped (names match where the field starts), a number
abutting another numeric field takes at most its pattern width (skipped spaces included), names match
case-insensitively (longest first), text after the pattern is ignored, and every field read must agree with the
resulting date (a wrong weekday, Feb 30, or a time in a DST gap fails).
Unlike Java: `S` is a fraction of a second (`.5` is 500 ms) and numbers take no sign.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from service.dates.calendar import (
    DateMode,
    F,
    Field,
    TimeMode,
    field_value,
    resolve_date,
    resolve_hour,
    select_modes,
)
from service.dates.formatter import MONTHS, SHORT_MONTHS, SHORT_WEEKDAYS, WEEKDAYS, Token
from service.dates.zones import TEXT_ZONE_NAMES, text_zone_offset

_FIELDS = {"G": F.ERA, "y": F.YEAR, "Y": F.WEEK_YEAR, "M": F.MONTH, "L": F.MONTH, "w": F.WEEK_OF_YEAR,
           "W": F.WEEK_OF_MONTH, "D": F.DAY_OF_YEAR, "d": F.DAY_OF_MONTH, "F": F.DAY_OF_WEEK_IN_MONTH,
           "E": F.DAY_OF_WEEK, "u": F.DAY_OF_WEEK, "a": F.AM_PM, "H": F.HOUR_OF_DAY, "k": F.HOUR_OF_DAY,
           "K": F.HOUR, "h": F.HOUR, "m": F.MINUTE, "s": F.SECOND, "S": F.FRACTION, "z": F.ZONE, "Z": F.ZONE,
           "X": F.ZONE}
_NUMERIC = frozenset("yYdkHmsSDFwWhKu")
# Java's quick range check for fields whose arithmetic would otherwise wrap (GregorianCalendar min/max).
_RANGES = {F.WEEK_OF_YEAR: (1, 53), F.WEEK_OF_MONTH: (0, 6), F.DAY_OF_YEAR: (1, 366), F.DAY_OF_WEEK: (1, 7),
           F.DAY_OF_WEEK_IN_MONTH: (1, 6), F.HOUR: (0, 11)}
_MIN_OFFSET, _MAX_OFFSET = -13 * 60, 14 * 60
_WS = "[ \t]*+"


def _names(names: Sequence[str]) -> str:
    return "(?i:" + "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)) + ")"


def _lookup(names: Sequence[Sequence[str]], start: int = 1) -> Callable[[str], int]:
    table = {name.lower(): start + index for group in names for index, name in enumerate(group)}
    return lambda text: table[text.lower()]


def _clock(low: int, high: int, wrap: int) -> Callable[[str], int]:
    # k (1-24) and h (1-12): Java rejects values out of range, then stores 24 and 12 as 0.
    def convert(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"{value} is not in {low}..{high}")
        return 0 if value == wrap else value

    return convert


def _fraction(text: str) -> int:
    return int((text.lstrip(" \t") + "00000")[:6])


def _iso_day(text: str) -> int:
    value = int(text)  # 1 = Monday ... 7 = Sunday, to Java's 1 = Sunday
    return value % 7 + 1 if 1 <= value <= 7 else value


_WEEKDAY_NAMES = (WEEKDAYS[6:] + WEEKDAYS[:6], SHORT_WEEKDAYS[6:] + SHORT_WEEKDAYS[:6])  # Sunday first
_CONVERTERS: dict[str, Callable[[str], int]] = {
    "G": _lookup([("BC", "AD")], start=0), "a": _lookup([("AM", "PM")], start=0), "E": _lookup(_WEEKDAY_NAMES),
    "k": _clock(1, 24, 24), "h": _clock(1, 12, 12), "S": _fraction, "u": _iso_day,
}
_MONTH_NAME = _lookup([MONTHS, SHORT_MONTHS])
# z and Z: "GMT[+-]h:mm" only right at the field's start (Java compares "GMT" before skipping spaces), else
# after spaces an RFC 822 offset or a zone name ("GMT" included, as the name of the GMT zone).
_ZONE_TEXT = (
    "((?i:GMT)(?:[+-][0-9]{1,2}+:[0-9]{2}|(?![+-]))|(?!(?i:GMT))" + _WS + "(?:[+-][0-9]{4}|"
    + _names(TEXT_ZONE_NAMES) + "))"
)
_ISO_ZONE = {1: "(Z|[+-][0-9]{2})", 2: "(Z|[+-][0-9]{4})", 3: "(Z|[+-][0-9]{2}:[0-9]{2})"}


def _field_regex(letter: str, count: int, obey: bool) -> tuple[str, Callable[[str], int] | None]:
    if letter in _NUMERIC or (letter in "ML" and count <= 2):
        if not obey:
            return _WS + "([0-9]++)", _CONVERTERS.get(letter, int)
        # Java reads an abutting number within `count` characters of the field's start, skipped spaces included.
        within = "|".join(f"[ \t]{{{spaces}}}[0-9]{{1,{count - spaces}}}+" for spaces in range(count))
        return f"((?>{within}))", _CONVERTERS.get(letter, int)
    # Names match where the field starts: Java's matchString gets the index from before the skipped spaces.
    if letter in "ML":
        return "(" + _names(MONTHS + SHORT_MONTHS) + ")", _MONTH_NAME
    if letter == "E":
        return "(" + _names(WEEKDAYS + SHORT_WEEKDAYS) + ")", _CONVERTERS["E"]
    if letter in "aG":
        return "(" + _names(("AM", "PM") if letter == "a" else ("AD", "BC")) + ")", _CONVERTERS[letter]
    if letter in "zZ":
        return _ZONE_TEXT, None
    return _WS + _ISO_ZONE[count], None


def _zone_minutes(text: str, zone: tzinfo) -> int | None:
    """UTC offset in minutes of a zone read from text, or None when the formatter's zone decides."""
    text = text.lstrip(" \t")
    if text[0] in "+-Z":
        if text == "Z":
            return 0
        digits = text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    elif text[:3].upper() == "GMT":
        if len(text) == 3:
            return 0
        hours_text, _, minutes_text = text[4:].partition(":")
        hours, minutes = int(hours_text), int(minutes_text)
    else:
        return text_zone_offset(text, zone)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {text} out of range")
    offset = (hours * 60 + minutes) * (-1 if text[0] == "-" or text[3:4] == "-" else 1)
    if not _MIN_OFFSET <= offset <= _MAX_OFFSET:  # GregorianCalendar's ZONE_OFFSET range
        raise ValueError(f"offset {text} out of range -13:00..+14:00")
    return offset


def _at(wall: Sequence[int], zone: tzinfo, fold: int = 0) -> datetime:
    # Positional tzinfo: `datetime.replace(tzinfo=...)` costs several times more.
    year, month, day, hour, minute, second, micro = wall
    if fold:
        return datetime(year, month, day, hour, minute, second, micro, zone, fold=fold)
    return datetime(year, month, day, hour, minute, second, micro, zone)


def localize(wall: Sequence[int], zone: tzinfo) -> tuple[datetime, bool]:
    """Java's reading of a wall time (`datetime()` arguments) in a zone, and whether the wall clock moved.

    A repeated hour (DST end) takes the later, standard-time instant; a skipped hour (DST start) is read with the
    offset before the change, which moves the wall clock forward (so a parsed hour no longer matches).
    """
    if not isinstance(zone, ZoneInfo):
        return _at(wall, zone), False
    first, later = _at(wall, zone), _at(wall, zone, fold=1)
    before, after = first.utcoffset(), later.utcoffset()
    if before == after:
        return first, False
    if before is not None and after is not None and before > after:
        return later, False
    return first, True


_FIXED_ZONES: dict[int, timezone] = {0: UTC}
# Wall-clock slots of the common case (date by day of month, 24-hour clock), in `datetime()` argument order.
_SLOTS = {F.YEAR: 0, F.MONTH: 1, F.DAY_OF_MONTH: 2, F.HOUR_OF_DAY: 3, F.MINUTE: 4, F.SECOND: 5, F.FRACTION: 6}


def _fixed(minutes: int) -> timezone:
    zone = _FIXED_ZONES.get(minutes)
    if zone is None:
        zone = _FIXED_ZONES.setdefault(minutes, timezone(timedelta(minutes=minutes)))
    return zone


@dataclass(frozen=True, slots=True)
class Parser:
    """A pattern compiled for parsing; `parse` returns the instant (UTC) or raises ValueError with the reason."""

    regex: re.Pattern[str]
    fields: tuple[Field, ...]  # per regex group
    converters: tuple[Callable[[str], int] | None, ...]  # None: the zone, read with the formatter's zone
    slots: tuple[int, ...] | None  # common case: per group, its wall-clock slot or -1; None: general case
    date_mode: DateMode
    time_mode: TimeMode
    ranged: tuple[Field, ...]  # fields Java range-checks before computing
    checked: tuple[Field, ...]  # fields not guaranteed by how the date and hour were built
    year_group: int | None  # group of a `y`/`yy`/`YY` year: two digits fall within 80 years before, 20 after now

    def parse(self, text: str, zone: tzinfo, century_start: datetime) -> datetime:
        """The UTC instant the text names.

        Raises:
            ValueError: the text does not match, or its fields name no date (with the reason).
        """
        match = self.regex.match(text)
        if match is None:
            raise ValueError("the text does not match the pattern")
        if self.slots is not None:
            instant = self._common(match.groups(), zone)
            if instant is not None:
                return instant
        values: dict[Field, int] = {}
        zone_text = None
        for field, convert, raw in zip(self.fields, self.converters, match.groups(), strict=True):
            if convert is None:
                zone_text = raw
            else:
                values[field] = convert(raw)
        ambiguous = None
        if self.year_group is not None and len(two := match.group(self.year_group).lstrip(" \t")) == 2:
            field = self.fields[self.year_group - 1]
            start, short = century_start.year, int(two)
            ambiguous = field if short == start % 100 else None
            values[field] = short + start // 100 * 100 + (100 if short < start % 100 else 0)
        instant = self._instant(values, zone_text, zone)
        if ambiguous is not None and instant < century_start:
            values[ambiguous] += 100
            instant = self._instant(values, zone_text, zone)
        return instant

    def _common(self, groups: tuple[str, ...], zone: tzinfo) -> datetime | None:
        """Date by day of month and a 24-hour clock: fill `datetime()` directly.

        None when a DST gap moved the wall clock: the general path then checks every field.
        """
        wall = [1970, 1, 1, 0, 0, 0, 0]
        zone_text = None
        others: list[tuple[Field, int]] = []
        for slot, field, convert, raw in zip(self.slots or (), self.fields, self.converters, groups, strict=True):
            if convert is None:
                zone_text = raw
            elif slot >= 0:
                wall[slot] = convert(raw)
            else:
                others.append((field, convert(raw)))
        if zone_text is not None and (offset := _zone_minutes(zone_text, zone)) is not None:
            aware = _at(wall, _fixed(offset))
        else:
            aware, moved = localize(wall, zone)
            if moved:
                return None
        for field, value in others:  # the aware time keeps the wall clock read
            if field_value(field, aware) != value:
                raise _disagree(field, value, aware.replace(tzinfo=None))
        return aware if aware.tzinfo is UTC else aware.astimezone(UTC)

    def _instant(self, values: dict[Field, int], zone_text: str | None, zone: tzinfo) -> datetime:
        if values.get(F.ERA, 1) == 0:
            raise ValueError("BC dates are not supported")
        for field in self.ranged:
            low, high = _RANGES[field]
            if field in values and not low <= values[field] <= high:
                raise ValueError(f"{_name(field)} {values[field]} is out of range {low}..{high}")
        day = resolve_date(values, self.date_mode)
        wall = (day.year, day.month, day.day, resolve_hour(values, self.time_mode),
                values.get(F.MINUTE, 0), values.get(F.SECOND, 0), values.get(F.FRACTION, 0))
        naive = datetime(*wall)  # noqa: DTZ001 - the wall clock read; its zone is attached below
        offset = None if zone_text is None else _zone_minutes(zone_text, zone)
        if offset is not None:
            aware, moved = _at(wall, _fixed(offset)), False
        else:
            aware, moved = localize(wall, zone)
        checked = self.checked
        if moved:  # a skipped hour moved the wall clock: every field read must still agree, as in Java
            naive = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
            if self.date_mode is DateMode.WEEK_DATE:  # Java's setWeekDate replaced year, month and day
                values = {**values, F.YEAR: day.year, F.MONTH: day.month, F.DAY_OF_MONTH: day.day}
            checked = tuple(sorted(set(values) - {F.FRACTION, F.WEEK_YEAR, F.ERA}))
        for field in checked:
            if field in values and field_value(field, naive) != values[field]:
                raise _disagree(field, values[field], naive)
        return aware.astimezone(UTC)


def _name(field: Field) -> str:
    return field.name.lower().replace("_", " ")


def _disagree(field: Field, value: int, wall: datetime) -> ValueError:
    shown = _WEEKDAY_NAMES[1][value - 1] if field is F.DAY_OF_WEEK and 1 <= value <= 7 else value
    return ValueError(f"{_name(field)} {shown} does not agree with {wall:%Y-%m-%d %H:%M:%S} (a {wall:%A})"
                      if field is F.DAY_OF_WEEK else f"{_name(field)} {shown} does not agree with {wall}")


def _guaranteed(date_mode: DateMode, time_mode: TimeMode) -> set[Field]:
    # Fields that `date()`/`datetime()` validate without normalising, given how the date and hour are built.
    guaranteed = {F.MINUTE, F.SECOND, F.FRACTION, F.ZONE, F.ERA, F.WEEK_YEAR}
    if date_mode is DateMode.DAY_OF_MONTH:
        guaranteed |= {F.YEAR, F.MONTH, F.DAY_OF_MONTH}
    if date_mode is DateMode.WEEK_DATE:  # Java's setWeekDate checks these and overwrites year, month, day
        guaranteed |= {F.YEAR, F.MONTH, F.DAY_OF_MONTH, F.WEEK_OF_YEAR, F.DAY_OF_WEEK}
    if time_mode is TimeMode.HOUR_OF_DAY:
        guaranteed.add(F.HOUR_OF_DAY)
    return guaranteed


def build_parser(tokens: Sequence[Token]) -> Parser:
    """Compile pattern tokens for parsing."""
    pieces: list[str] = []
    fields: list[Field] = []
    converters: list[Callable[[str], int] | None] = []
    year_group = None
    for index, token in enumerate(tokens):
        if isinstance(token, str):
            pieces.append(re.escape(token))
            continue
        letter, count = token
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        # Java's shouldObeyCount: a number abutting a numeric field takes at most its pattern width.
        obey = isinstance(following, tuple) and (
            following[0] in _NUMERIC or (following[0] in "ML" and following[1] <= 2)
        )
        piece, convert = _field_regex(letter, count, obey)
        pieces.append(piece)
        fields.append(_FIELDS[letter])
        converters.append(convert)
        if letter in "yY":
            year_group = len(fields) if count <= 2 else None
    date_mode, time_mode = select_modes(fields)
    checked = tuple(sorted(set(fields) - _guaranteed(date_mode, time_mode)))
    common = (date_mode is DateMode.DAY_OF_MONTH and time_mode is not TimeMode.HOUR_AM_PM
              and year_group is None and F.ERA not in fields and F.WEEK_YEAR not in fields)
    return Parser(
        regex=re.compile("".join(pieces), re.ASCII),
        fields=tuple(fields),
        converters=tuple(converters),
        slots=tuple(_SLOTS.get(field, -1) for field in fields) if common else None,
        date_mode=date_mode,
        time_mode=time_mode,
        ranged=tuple(field for field in _RANGES if field in fields),
        checked=checked,
        year_group=year_group,
    )
