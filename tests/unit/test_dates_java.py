"""DateFormat against java.text.SimpleDateFormat itself, on generated patterns, zones, instants and texts.

Needs a JDK (`javac`, `java`); skipped without one. Cases stay where the two are meant to agree: years 1972-9999
(Java's Julian calendar and old local mean times are not modelled), `S` only as `SSS` with three digits (here `S`
is a fraction of a second on purpose), and zone names Java and this engine both know.
"""

from __future__ import annotations

import base64
import random
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.dates import DateFormat, DateFormatError

pytestmark = pytest.mark.java

PATTERNS = [
    "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "yyyy-MM-dd'T'HH:mm:ssXXX",
    "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "yyyy-MM-dd'T'HH:mm:ssZ", "yyyy-MM-dd HH:mm:ss", "EEE, dd MMM yyyy HH:mm:ss Z",
    "MM/dd/yyyy HH:mm:ss", "yyyy-MM-dd", "yyyy/MM/dd HH:mm:ss", "MM/dd/yyyy'T'HH:mm:ssXXX", "dd/MM/yyyy",
    "EEEE, MMMM d, yyyy h:mm:ss a z", "yy-M-d H:m:s", "yyyyMMddHHmmss", "yyyyMMdd'T'HHmmss.SSSX",
    "G yyyy-MM-dd HH:mm:ss zzzz", "YYYY-'W'ww-u", "yyyy-D HH:mm", "yyyy-MM-F-E kk:mm", "yyyy-MM-W-EEE KK:mm a",
    "dd MMM yy hh:mm a XX", "LLL d, yyyy", "MMMM yyyy", "yyyy-MM-dd'T'HH:mm:ss.SSSZ", "EEE MMM dd HH:mm:ss z yyyy",
    "yyyy-MM-dd'T'HH:mm:ssX", "h 'o''clock' a, zzzz", "yyyy.MM.dd G 'at' HH:mm:ss z", "YYYY-ww-EEE", "yyyy-ww-EEE",
    "YY-ww-E",
]
ZONES = [
    "UTC", "GMT", "America/Los_Angeles", "America/New_York", "Europe/Berlin", "Europe/London", "Europe/Dublin",
    "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo", "Asia/Tokyo", "GMT-06:00", "GMT+05:30", "EST", "MST",
    "HST", "PST", "CST", "IST", "America/Phoenix", "Pacific/Auckland", "Africa/Johannesburg", "America/St_Johns",
]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST, LAST = datetime(1972, 1, 1, tzinfo=UTC), datetime(2060, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("needs a JDK (javac and java)")
    classes = tmp_path_factory.mktemp("java_oracle")
    source = Path(__file__).parent / "java_oracle" / "DateOracle.java"
    subprocess.run(["javac", "-d", str(classes), str(source)], check=True, capture_output=True)  # noqa: S603, S607
    return classes


def ask(classes: Path, lines: list[str]) -> list[str]:
    done = subprocess.run(  # noqa: S603
        ["java", "-cp", str(classes), "DateOracle"],  # noqa: S607
        input="\n".join(lines) + "\n", capture_output=True, text=True, check=True, timeout=120,
    )
    return done.stdout.splitlines()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def millis(when: datetime) -> int:
    return (when - EPOCH) // timedelta(milliseconds=1)


def mutations(text: str, rng: random.Random) -> list[str]:
    """Texts near a valid one: changed digits, inserted spaces and digits, cuts, case changes."""
    found = []
    for _ in range(3):
        chars, at = list(text), rng.randrange(len(text))
        kind = rng.randrange(5)
        if kind == 0 and chars[at].isdigit():
            chars[at] = str(rng.randrange(10))
        elif kind == 1:
            chars.insert(at, rng.choice([" ", "0", "\t", "1"]))
        elif kind == 2 and not chars[at].isalpha():  # no made-up zone names
            del chars[at]
        elif kind == 3:
            chars = chars[:at]
        else:
            chars[at] = chars[at].swapcase()
        found.append("".join(chars))
    return found


def comparable(pattern: str, zone: str, text: str, java: str, ours: str) -> bool:
    """Whether a case is one where the two engines are meant to agree (see the module docstring)."""
    for answer in (java, ours):
        if answer != "ERR" and not millis(FIRST) <= int(answer) < millis(datetime(9999, 1, 1, tzinfo=UTC)):
            return False
    fraction = re.search(r"\.([0-9]*)", text)
    if "S" in pattern and (fraction is None or len(fraction[1]) != 3):
        return False  # a fraction of other than three digits: milliseconds in Java, a fraction here
    # Without a year the date is 1970, when London and Dublin kept summer time all year: Java's data differs.
    return not ("y" not in pattern and zone in ("Europe/London", "Europe/Dublin"))


def test_format_and_parse_agree_with_java(oracle: Path) -> None:
    rng = random.Random(20240105)
    cases = []
    for _ in range(1500):
        when = FIRST + timedelta(milliseconds=rng.randrange(millis(LAST) - millis(FIRST)))
        if rng.random() < 0.25:  # near daylight-saving changes
            when = datetime(rng.choice([2018, 2021, 2024]), rng.choice([3, 4, 10, 11]), rng.randrange(1, 29),
                            tzinfo=UTC) + timedelta(milliseconds=rng.randrange(86_400_000))
        cases.append((rng.choice(PATTERNS), rng.choice(ZONES), when))
    formatted = ask(oracle, [f"F {b64(p)} {b64(z)} {millis(t)}" for p, z, t in cases])
    texts = []
    for (pattern, zone, when), answer in zip(cases, formatted, strict=True):
        java_text = base64.b64decode(answer).decode()
        assert DateFormat(pattern, zone).format(when) == java_text, (pattern, zone, when)
        texts += [(pattern, zone, text) for text in [java_text, *mutations(java_text, rng)]]

    parsed = ask(oracle, [f"P {b64(p)} {b64(z)} {b64(t)}" for p, z, t in texts])
    compared = 0
    for (pattern, zone, text), java in zip(texts, parsed, strict=True):
        try:
            ours = str(millis(DateFormat(pattern, zone).parse(text)))
        except DateFormatError:
            ours = "ERR"
        if not comparable(pattern, zone, text, java, ours):
            continue
        compared += 1
        assert ours == java, (pattern, zone, text)
    assert compared > 4000  # most cases are comparable: the filter must not hide the test
