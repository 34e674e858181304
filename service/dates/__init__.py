"""Dates as Open Connectors configurations write them: Java date patterns, time zones, URL date placeholders.

`DateFormat` formats and parses `SimpleDateFormat` patterns and epoch keywords; `parse_zone` reads configured zones;
`render_url` fills poller URL templates. No I/O; the clock is read only for Java's two-digit-year window.
"""

from __future__ import annotations

from service.dates.errors import DateFormatError, PlaceholderError
from service.dates.pattern import DateFormat
from service.dates.placeholders import UrlTemplate, compile_url, render_url
from service.dates.zones import parse_zone

__all__ = [
    "DateFormat",
    "DateFormatError",
    "PlaceholderError",
    "UrlTemplate",
    "compile_url",
    "parse_zone",
    "render_url",
]
