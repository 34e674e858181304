"""Parse and format rates of `DateFormat` against `datetime.strptime` / `strftime` on the same strings.

For an ISO pattern (UTC and with an offset), RFC 1123 (`EEE, dd MMM yyyy HH:mm:ss Z`) and US (`MM/dd/yyyy HH:mm:ss`),
prints operations per second and the ratio DateFormat / datetime (above 1: DateFormat is faster). Each rate is the
best of several rounds over a spread of instants, so a busy machine blurs it less. Goals: parse at least 5x strptime
on ISO-shaped patterns and at least 1x on the others (a missed goal is printed, not an exit status).

    python bench/dates.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from operator import methodcaller
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.dates import DateFormat

# (name, SimpleDateFormat pattern, the same for strptime/strftime, zone of the texts, ISO-shaped)
CASES = [
    ("ISO UTC", "yyyy-MM-dd'T'HH:mm:ss'Z'", "%Y-%m-%dT%H:%M:%SZ", UTC, True),
    ("ISO offset + millis", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "%Y-%m-%dT%H:%M:%S.%f%z",
     timezone(timedelta(hours=-7)), True),
    ("RFC 1123", "EEE, dd MMM yyyy HH:mm:ss Z", "%a, %d %b %Y %H:%M:%S %z", UTC, False),
    ("US", "MM/dd/yyyy HH:mm:ss", "%m/%d/%Y %H:%M:%S", UTC, False),
]
GOAL = {True: 5.0, False: 1.0}


def rate(operation: Callable[[Any], object], inputs: Sequence[Any], budget: float) -> float:
    """Best operations per second over rounds that fit in `budget` seconds."""
    best, deadline = 0.0, time.perf_counter() + budget
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        for item in inputs:
            operation(item)
        best = max(best, len(inputs) / (time.perf_counter() - started))
    return best


def strptime(directive: str) -> Callable[[str], datetime]:
    return lambda text: datetime.strptime(text, directive)


def agree(fmt: DateFormat, directive: str, texts: list[str]) -> bool:
    """Whether DateFormat and strptime read the same instants from the texts (naive strptime results are UTC)."""
    for text in texts:
        theirs = datetime.strptime(text, directive)
        if fmt.parse(text) != (theirs if theirs.tzinfo else theirs.replace(tzinfo=UTC)):
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="total time budget (default 20)")
    args = parser.parse_args()
    budget = args.seconds / (len(CASES) * 4)
    rng = random.Random(7)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    instants = [start + timedelta(microseconds=rng.randrange(10**15)) for _ in range(2000)]

    print(f"{'case':22} {'parse/s':>10} {'strptime/s':>11} {'ratio':>6}   {'format/s':>10} {'strftime/s':>11} "
          f"{'ratio':>6}  goal")
    for name, pattern, directive, zone, iso in CASES:
        fmt = DateFormat(pattern, "UTC" if zone is UTC else "GMT-07:00")
        local = [when.astimezone(zone).replace(microsecond=when.microsecond // 1000 * 1000) for when in instants]
        texts = [fmt.format(when) for when in local]
        if not agree(fmt, directive, texts[:100]):
            print(f"{name}: DateFormat and strptime read different instants", file=sys.stderr)
            return 1
        ours_parse = rate(fmt.parse, texts, budget)
        their_parse = rate(strptime(directive), texts, budget)
        ours_format = rate(fmt.format, local, budget)
        their_format = rate(methodcaller("strftime", directive), local, budget)
        parse_ratio, format_ratio = ours_parse / their_parse, ours_format / their_format
        met = parse_ratio >= GOAL[iso]
        print(f"{name:22} {ours_parse:10,.0f} {their_parse:11,.0f} {parse_ratio:5.1f}x   {ours_format:10,.0f} "
              f"{their_format:11,.0f} {format_ratio:5.1f}x  parse >= {GOAL[iso]:.0f}x: {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
