"""Java's GregorianCalendar (Locale.US, non-lenient) as `SimpleDateFormat` uses it: fields, weeks, resolution.

Weeks follow Locale.US: they start on Sunday and week 1 is the one holding January 1 (or the 1st of the month).
Dates are proleptic Gregorian: Java's Julian calendar before 1582-10-15 and BC years are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import IntEnum


class Field(IntEnum):
    """Calendar fields a pattern letter sets or a formatter reads."""

    ERA = 0
    YEAR = 1
    WEEK_YEAR = 2
    MONTH = 3  # 1-12, unlike Java's 0-11
    WEEK_OF_YEAR = 4
    WEEK_OF_MONTH = 5
    DAY_OF_MONTH = 6
    DAY_OF_YEAR = 7
    DAY_OF_WEEK = 8  # Java numbering: 1 = Sunday ... 7 = Saturday
    DAY_OF_WEEK_IN_MONTH = 9
    AM_PM = 10
    HOUR = 11  # 0-11
    HOUR_OF_DAY = 12
    MINUTE = 13
    SECOND = 14
    FRACTION = 15  # microseconds: `S` is a fraction of a second here
    ZONE = 16


F = Field
SUNDAY = 1


class DateMode(IntEnum):
    """Which group of fields gives the date, as `Calendar.selectFields` chooses it."""

    DAY_OF_MONTH = 0
    WEEK_OF_MONTH = 1
    DAY_OF_WEEK_IN_MONTH = 2
    DAY_OF_YEAR = 3
    WEEK_OF_YEAR = 4
    WEEK_DATE = 5  # `Y` set after `y`: week year + week of year + day of week


class TimeMode(IntEnum):
    """Which fields give the hour."""

    NONE = 0
    HOUR_OF_DAY = 1
    HOUR_AM_PM = 2


def select_modes(order: Sequence[Field]) -> tuple[DateMode, TimeMode]:
    """Java's choice of date and time fields, given the order in which the pattern sets them (later wins)."""
    stamp = {field: index + 1 for index, field in enumerate(order)}

    def get(field: Field) -> int:
        return stamp.get(field, 0)

    def both(a: Field, b: Field) -> int:
        return max(get(a), get(b)) if get(a) and get(b) else 0

    if get(F.WEEK_YEAR) > get(F.YEAR):
        date_mode = DateMode.WEEK_DATE
    else:
        dom, doy = get(F.DAY_OF_MONTH), get(F.DAY_OF_YEAR)
        wom = both(F.WEEK_OF_MONTH, F.DAY_OF_WEEK)
        dowim = both(F.DAY_OF_WEEK_IN_MONTH, F.DAY_OF_WEEK)
        woy = both(F.WEEK_OF_YEAR, F.DAY_OF_WEEK)
        best = max(dom, wom, dowim, doy, woy)
        if not best:  # no complete group: a week field alone, or day of week alone as day-of-week-in-month
            wom, woy = get(F.WEEK_OF_MONTH), get(F.WEEK_OF_YEAR)
            dowim = max(get(F.DAY_OF_WEEK_IN_MONTH), get(F.DAY_OF_WEEK))
            best = max(wom, dowim, woy)
            if not best:
                best = dom = get(F.MONTH)
        if best == dom:
            date_mode = DateMode.DAY_OF_MONTH
        elif best == wom and get(F.WEEK_OF_MONTH) >= get(F.WEEK_OF_YEAR):
            date_mode = DateMode.WEEK_OF_MONTH
            if wom == dowim and get(F.WEEK_OF_MONTH) < get(F.DAY_OF_WEEK_IN_MONTH):
                date_mode = DateMode.DAY_OF_WEEK_IN_MONTH
        elif best == dowim and get(F.DAY_OF_WEEK_IN_MONTH) >= get(F.WEEK_OF_YEAR):
            date_mode = DateMode.DAY_OF_WEEK_IN_MONTH
        elif best == doy:
            date_mode = DateMode.DAY_OF_YEAR
        else:
            date_mode = DateMode.WEEK_OF_YEAR
    hour_of_day, hour = get(F.HOUR_OF_DAY), both(F.HOUR, F.AM_PM)
    if hour_of_day or hour:
        time_mode = TimeMode.HOUR_OF_DAY if hour_of_day > hour else TimeMode.HOUR_AM_PM
    else:
        time_mode = TimeMode.HOUR_AM_PM if get(F.HOUR) or get(F.AM_PM) else TimeMode.NONE
    return date_mode, time_mode


def _week_start(ordinal: int) -> int:
    """Ordinal of the Sunday on or before a day (ordinal 1, 0001-01-01, is a Monday)."""
    return ordinal - ordinal % 7


def us_week(day: date) -> tuple[int, int]:
    """Week year and week of year (Locale.US: Sunday first, week 1 holds January 1)."""
    ordinal, year = day.toordinal(), day.year
    next_year_start = _week_start(date(year, 12, 31).toordinal() + 1)
    if ordinal >= next_year_start:
        return year + 1, 1
    return year, (ordinal - _week_start(date(year, 1, 1).toordinal())) // 7 + 1


def day_of_week(day: date) -> int:
    """Java's DAY_OF_WEEK: 1 = Sunday ... 7 = Saturday."""
    return day.isoweekday() % 7 + 1


def week_of_month(day: date) -> int:
    """Locale.US week of month: week 1 holds the 1st."""
    return (day.day - 1 + day.replace(day=1).isoweekday() % 7) // 7 + 1


def field_value(field: Field, wall: datetime) -> int:
    """What Java's calendar computes for a field of a local time (for the non-lenient consistency check)."""
    if field is F.YEAR:
        return wall.year
    if field is F.MONTH:
        return wall.month
    if field is F.DAY_OF_MONTH:
        return wall.day
    if field is F.HOUR_OF_DAY:
        return wall.hour
    if field is F.MINUTE:
        return wall.minute
    if field is F.SECOND:
        return wall.second
    if field is F.DAY_OF_WEEK:
        return day_of_week(wall)
    if field is F.DAY_OF_YEAR:
        return wall.timetuple().tm_yday
    if field is F.DAY_OF_WEEK_IN_MONTH:
        return (wall.day - 1) // 7 + 1
    if field is F.WEEK_OF_MONTH:
        return week_of_month(wall)
    if field is F.WEEK_OF_YEAR:
        return us_week(wall)[1]
    if field is F.WEEK_YEAR:
        return us_week(wall)[0]
    if field is F.AM_PM:
        return int(wall.hour >= 12)
    if field is F.HOUR:
        return wall.hour % 12
    if field is F.ERA:
        return 1
    raise ValueError(f"{field.name} is not a date or time field")


def resolve_date(values: Mapping[Field, int], mode: DateMode) -> date:
    """The date Java's `GregorianCalendar.getFixedDate` derives from the selected fields (unset = Java defaults).

    Raises:
        ValueError, OverflowError: the fields name no representable date.
    """
    year = values.get(F.YEAR, 1970)
    if mode is DateMode.DAY_OF_MONTH:
        return date(year, values.get(F.MONTH, 1), values.get(F.DAY_OF_MONTH, 1))
    if mode is DateMode.DAY_OF_YEAR:
        return date(year, 1, 1) + timedelta(days=values[F.DAY_OF_YEAR] - 1)
    dow = values.get(F.DAY_OF_WEEK, SUNDAY)
    if mode is DateMode.WEEK_DATE:
        week_year, week = values[F.WEEK_YEAR], values.get(F.WEEK_OF_YEAR, 1)
        start = _week_start(date(week_year, 1, 1).toordinal())
        day = date.fromordinal(start + (dow - SUNDAY) % 7 + 7 * (week - 1))
        if us_week(day) != (week_year, week) or day_of_week(day) != dow:
            raise ValueError("week date out of range")
        return day
    if mode is DateMode.WEEK_OF_YEAR:
        start = _week_start(date(year, 1, 1).toordinal())
        return date.fromordinal(start + (dow - SUNDAY) + 7 * (values[F.WEEK_OF_YEAR] - 1))
    first = date(year, values.get(F.MONTH, 1), 1).toordinal()
    if mode is DateMode.WEEK_OF_MONTH:
        return date.fromordinal(_week_start(first) + (dow - SUNDAY) + 7 * (values[F.WEEK_OF_MONTH] - 1))
    # Day of week in month: the dow-th such weekday, counting from the 1st.
    last = first + 7 * values.get(F.DAY_OF_WEEK_IN_MONTH, 1) - 1
    return date.fromordinal(last - (day_of_week(date.fromordinal(last)) - dow) % 7)


def resolve_hour(values: Mapping[Field, int], mode: TimeMode) -> int:
    """The hour of day from the selected fields (Java keeps out-of-range values for the check to reject)."""
    if mode is TimeMode.HOUR_OF_DAY:
        return values[F.HOUR_OF_DAY]
    if mode is TimeMode.HOUR_AM_PM:
        return values.get(F.HOUR, 0) + 12 * values.get(F.AM_PM, 0)
    return 0
