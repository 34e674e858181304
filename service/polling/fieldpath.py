"""Field paths into provider records: `id`, `properties.hs_lastmodifieddate`, `['Modified Time']`, `items[0].id`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MISSING: Any = object()  # what FieldPath.get returns when the record lacks the field

_PATH_STEP = re.compile(
    r"""\.?([^.\[\]]+)"""  # name, after a dot or at the start
    r"""|\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[\s*"((?:[^"\\]|\\.)*)"\s*\]"""  # ['Modified Time'] or ["x"]
    r"""|\[\s*(\d+)\s*\]"""  # [0]
)


@dataclass(frozen=True)
class FieldPath:
    """A compiled path into a record: `id`, `properties.hs_lastmodifieddate`, `['Modified Time']`, `items[0].id`.

    A dotted path that finds nothing nested falls back to a top-level key spelled with the dots (`"a.b": 1`).
    """

    text: str
    steps: tuple[str | int, ...]

    @classmethod
    def parse(cls, text: str) -> FieldPath:
        """Compile a path; raises ValueError saying where it stopped making sense."""
        steps: list[str | int] = []
        position = 0
        while position < len(text):
            match = _PATH_STEP.match(text, position)
            if match is None or match.end() == position:
                raise ValueError(f"cannot read field path {text!r} at position {position}")
            plain, single, double, index = match.groups()
            if index is not None:
                steps.append(int(index))
            else:
                steps.append(plain if plain is not None else (single if single is not None else double))
            position = match.end()
        if not steps:
            raise ValueError("field path is empty")
        return cls(text, tuple(steps))

    def get(self, record: object) -> Any:
        """The value at the path, or MISSING."""
        value: Any = record
        for step in self.steps:
            if isinstance(step, int):
                if not (isinstance(value, list) and -len(value) <= step < len(value)):
                    return MISSING
                value = value[step]
            elif isinstance(value, Mapping) and step in value:
                value = value[step]
            else:
                if len(self.steps) > 1 and isinstance(record, Mapping):
                    return record.get(self.text, MISSING)
                return MISSING
        return value
