"""YAML manifests (`connector-events apply -f FILE`): elements and instances declared together, validated whole.

A manifest is one or more YAML documents, each a mapping with `elements:` and/or `instances:` lists. Nothing is
written unless every definition is valid; errors name the document, the list position and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from service.errors import ConfigError
from service.registry.models import Element, Instance, ResolvedInstance

# Checks of a resolved instance beyond its model (e.g. the poller configuration); they raise ValueError.
InstanceCheck = Callable[[ResolvedInstance], None]


@dataclass
class Manifest:
    """What a manifest declares."""

    elements: list[Element] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)


def parse_manifest(text: str, *, source: str = "manifest") -> Manifest:
    """Parse and validate a manifest.

    Raises:
        ConfigError: listing every invalid field as `source: elements[0].configuration...: reason`.
    """
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    manifest = Manifest()
    problems: list[str] = []
    for number, document in enumerate(documents):
        where = source if len(documents) == 1 else f"{source} document {number + 1}"
        if not isinstance(document, Mapping):
            problems.append(f"{where}: expected a mapping with 'elements' and/or 'instances'")
            continue
        unknown = set(document) - {"elements", "instances"}
        if unknown:
            problems.append(f"{where}: unknown top-level keys {sorted(unknown)} (expected elements, instances)")
        manifest.elements += _validate_list(document, "elements", Element, where, problems)
        manifest.instances += _validate_list(document, "instances", Instance, where, problems)
    if problems:
        raise ConfigError("invalid manifest:\n  " + "\n  ".join(problems))
    return manifest


M = TypeVar("M", bound=BaseModel)


def _validate_list(
    document: Mapping[str, Any], name: str, model: type[M], where: str, problems: list[str]
) -> list[M]:
    items = document.get(name) or []
    if not isinstance(items, list):
        problems.append(f"{where}: {name} must be a list")
        return []
    valid: list[M] = []
    for index, item in enumerate(items):
        try:
            valid.append(model.model_validate(item))
        except ValidationError as exc:
            problems.extend(f"{where}: {name}[{index}]{_path(e['loc'])}: {e['msg']}" for e in exc.errors())
    return valid


def _path(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def check_references(
    manifest: Manifest, known_elements: Mapping[str, Element], checks: list[InstanceCheck] | None = None
) -> None:
    """Every instance names an element (in the manifest or already registered) and passes `checks`.

    Raises:
        ConfigError: listing each instance that fails, with the reason.
    """
    elements = {**known_elements, **{element.key: element for element in manifest.elements}}
    problems: list[str] = []
    for index, instance in enumerate(manifest.instances):
        element = elements.get(instance.element_key)
        if element is None:
            problems.append(f"instances[{index}] ({instance.id}): unknown element {instance.element_key!r}")
            continue
        resolved = ResolvedInstance(element=element, instance=instance)
        for check in checks or []:
            try:
                check(resolved)
            except (ValueError, ConfigError) as exc:
                problems.append(f"instances[{index}] ({instance.id}): {exc}")
    if problems:
        raise ConfigError("invalid manifest:\n  " + "\n  ".join(problems))
