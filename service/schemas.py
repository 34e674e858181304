"""The JSON Schemas of what the service writes to Kafka, generated from the models into `schemas/`.

`python -m service.schemas` writes them; `python -m service.schemas --check` fails when the committed files drift.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# A URN, not a URL: the schemas are not served from anywhere; the AsyncAPI document refers to them by file path.
ID_PREFIX = "urn:connector-events:schema:"
SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
REGENERATE = "python -m service.schemas"


@dataclass(frozen=True, slots=True)
class SchemaSpec:
    """One generated schema file: which model, where it goes, what it is called."""

    name: str
    module: str
    model: str
    title: str

    @property
    def filename(self) -> str:
        """File name inside `schemas/`."""
        return f"{self.name}.schema.json"


SPECS = (
    SchemaSpec("event", "service.events", "NormalizedEvent", "connector-events normalized event"),
    SchemaSpec("element", "service.registry.models", "Element", "connector-events element"),
    SchemaSpec("instance", "service.registry.models", "Instance", "connector-events instance"),
    SchemaSpec("cursor", "service.cursors", "Cursor", "connector-events poll cursor"),
)


def _model(spec: SchemaSpec) -> type[BaseModel] | None:
    """The model class, or None when its module is not there (yet): its schema is then not generated."""
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name != spec.module:
            raise  # a missing dependency of an existing module is a real error
        return None
    model = getattr(module, spec.model)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{spec.module}.{spec.model} is not a pydantic model")
    return model


def schema_of(spec: SchemaSpec, model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of `model` as it is serialized to Kafka (camelCase aliases, JSON mode)."""
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    return {"$schema": SCHEMA_DIALECT, "$id": f"{ID_PREFIX}{spec.name}", **schema, "title": spec.title}


def dump(schema: dict[str, Any]) -> str:
    """Stable text: sorted keys, indent 2, trailing newline (so diffs show only real changes)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    """File name -> expected content, for every spec whose model exists."""
    rendered: dict[str, str] = {}
    for spec in SPECS:
        model = _model(spec)
        if model is not None:
            rendered[spec.filename] = dump(schema_of(spec, model))
    return rendered


def drifted(directory: Path = SCHEMAS_DIR) -> list[str]:
    """Names of the files in `directory` that are missing or differ from what the models generate."""
    problems = []
    for filename, text in render_all().items():
        path = directory / filename
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            problems.append(filename)
    return problems


def write_all(directory: Path = SCHEMAS_DIR) -> list[str]:
    """Write every schema into `directory`; returns the names of the files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = drifted(directory)
    for filename, text in render_all().items():
        if filename in changed:
            (directory / filename).write_text(text, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Write the schemas, or with `--check` exit 1 naming those that drifted."""
    parser = argparse.ArgumentParser(prog=REGENERATE, description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail instead of writing when a file differs")
    parser.add_argument("--dir", type=Path, default=SCHEMAS_DIR, help="output directory (default: schemas/)")
    args = parser.parse_args(argv)
    if args.check:
        stale = drifted(args.dir)
        if stale:
            sys.stderr.write(f"schemas out of date: {', '.join(stale)}; regenerate with `{REGENERATE}`\n")
            return 1
        return 0
    for filename in write_all(args.dir):
        sys.stdout.write(f"wrote {args.dir / filename}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
