"""Formatting side of a compiled pattern: one `str.format` template and one getter per field, built once.

Output follows `SimpleDateFormat` with Locale.US, except `S`, which prints leading digits of the fraction of a second.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from service.dates.calendar import us_week, week_of_month
from service.dates.zones import offset_minutes, zone_name

Token = str | tuple[str, int]  # a literal, or (pattern letter, count)
Getter = Callable[[datetime], object]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
SHORT_MONTHS = tuple(name[:3] for name in MONTHS)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # datetime.weekday order
SHORT_WEEKDAYS = tuple(name[:3] for name in WEEKDAYS)


_OFFSETS: dict[tuple[timedelta | None, int], str] = {}  # (utcoffset, style) -> text; few distinct offsets exist


def offset_text(offset: timedelta | None, style: int) -> str:
    """Style 0: RFC 822 `-0800` (`Z`); 1-3: ISO 8601 `X` (`-08`), `XX` (`-0800`), `XXX` (`-08:00`), `Z` for 0."""
    text = _OFFSETS.get((offset, style))
    if text is None:
        minutes = offset_minutes(offset)
        hours, mins = divmod(abs(minutes), 60)
        sign = "-" if minutes < 0 else "+"
        if style and not (offset or timedelta()):
            text = "Z"
        else:
            text = {0: f"{sign}{hours:02d}{mins:02d}", 1: f"{sign}{hours:02d}", 2: f"{sign}{hours:02d}{mins:02d}",
                    3: f"{sign}{hours:02d}:{mins:02d}"}[style]
        _OFFSETS[offset, style] = text
    return text


def rfc822_offset(local: datetime) -> str:
    """`Z`: `-0800`."""
    return offset_text(local.utcoffset(), 0)


def _iso_offset(count: int) -> Getter:
    return lambda local: offset_text(local.utcoffset(), count)


def _fraction(count: int) -> Getter:
    def fraction(local: datetime) -> str:
        digits = f"{local.microsecond:06d}"
        return digits[:count] if count <= 6 else digits + "0" * (count - 6)

    return fraction


def _number(attribute: str | Getter, count: int) -> tuple[str | Getter, str]:
    return attribute, f"0{count}d"


def _year(count: int, week_year: bool) -> tuple[str | Getter, str]:
    if week_year:
        if count == 2:
            return (lambda t: us_week(t)[0] % 100), "02d"
        return (lambda t: us_week(t)[0]), f"0{count}d"
    if count == 2:
        return (lambda t: t.year % 100), "02d"
    return "year", f"0{count}d"


def _field(letter: str, count: int) -> tuple[str | Getter, str]:
    """How one pattern field prints: an attribute name or a getter, and a format spec."""
    if letter in "yY":
        return _year(count, letter == "Y")
    if letter in "ML":
        if count >= 4:
            return (lambda t: MONTHS[t.month - 1]), ""
        if count == 3:
            return (lambda t: SHORT_MONTHS[t.month - 1]), ""
        return _number("month", count)
    simple = {"d": "day", "H": "hour", "m": "minute", "s": "second"}
    if letter in simple:
        return _number(simple[letter], count)
    if letter == "E":
        names = WEEKDAYS if count >= 4 else SHORT_WEEKDAYS
        return (lambda t: names[t.weekday()]), ""
    computed: dict[str, Getter] = {
        "k": lambda t: t.hour or 24,
        "K": lambda t: t.hour % 12,
        "h": lambda t: t.hour % 12 or 12,
        "u": lambda t: t.isoweekday(),
        "D": lambda t: t.timetuple().tm_yday,
        "F": lambda t: (t.day - 1) // 7 + 1,
        "w": lambda t: us_week(t)[1],
        "W": week_of_month,
    }
    if letter in computed:
        return _number(computed[letter], count)
    if letter == "S":
        return _fraction(count), ""
    if letter == "a":
        return (lambda t: "PM" if t.hour >= 12 else "AM"), ""
    if letter == "G":
        return (lambda t: "AD"), ""
    if letter == "z":
        long = count >= 4
        return (lambda t: zone_name(t, long)), ""
    if letter == "Z":
        return rfc822_offset, ""
    return _iso_offset(count), ""  # X


def build_formatter(tokens: Sequence[Token]) -> Callable[[datetime], str]:
    """A function printing an aware local time (already in the formatter's zone) by the pattern."""
    template: list[str] = []
    sources: list[str | Getter] = []
    for token in tokens:
        if isinstance(token, str):
            template.append(token.replace("%", "%%"))
            continue
        source, spec = _field(*token)
        template.append("%" + spec if spec else "%s")  # printf style: cheaper than str.format per call
        sources.append(source)
    text = "".join(template)
    if not sources:
        literal = text.replace("%%", "%")
        return lambda _local: literal
    if all(isinstance(source, str) for source in sources):
        # Plain attributes (the ISO-shaped patterns): one attrgetter call reads them all.
        read = operator.attrgetter(*(source for source in sources if isinstance(source, str)))
        if len(sources) == 1:
            return lambda local: text % (read(local),)
        return lambda local: text % read(local)
    getters = [operator.attrgetter(source) if isinstance(source, str) else source for source in sources]
    return lambda local: text % tuple([getter(local) for getter in getters])
