"""Errors of the date engine: both are `ValueError`s whose message quotes the offending pattern, text or URL."""

from __future__ import annotations


class DateFormatError(ValueError):
    """A date pattern, time zone or date text is invalid; the message names the pattern and the text."""


class PlaceholderError(ValueError):
    """A URL template holds a malformed date placeholder or an unknown configuration key; the message quotes it."""
