"""The committed JSON Schemas match the models, and the AsyncAPI document matches the topics the service creates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from service import schemas
from service.bus.topics import topic_specs
from service.config import TopicSettings
from service.events import EventSource, EventType, NormalizedEvent

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
ASYNCAPI = SCHEMAS_DIR / "asyncapi.yaml"


@pytest.fixture
def jsonschema() -> Any:
    """jsonschema is not a declared dependency (yet): the checks that need it skip without it."""
    return pytest.importorskip("jsonschema")


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _asyncapi() -> dict[str, Any]:
    document = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_committed_schemas_match_the_models() -> None:
    stale = schemas.drifted(SCHEMAS_DIR)
    assert not stale, f"schemas/ drifted from the models: {stale}; regenerate with `{schemas.REGENERATE}`"


def test_every_model_with_a_module_has_a_schema() -> None:
    rendered = schemas.render_all()
    for name in ("event", "element", "instance"):
        assert f"{name}.schema.json" in rendered


@pytest.mark.parametrize("filename", sorted(schemas.render_all()))
def test_schema_is_valid_json_schema_with_id_and_title(filename: str, jsonschema: Any) -> None:
    schema = _load(SCHEMAS_DIR / filename)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].startswith(schemas.ID_PREFIX)
    assert schema["title"]
    assert (SCHEMAS_DIR / filename).read_text(encoding="utf-8").endswith("}\n")


def test_check_mode_reports_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert schemas.main(["--dir", str(tmp_path)]) == 0
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 0
    (tmp_path / "event.schema.json").write_text("{}\n", encoding="utf-8")
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "event.schema.json" in error
    assert schemas.REGENERATE in error


def test_a_serialized_event_validates_against_the_event_schema(jsonschema: Any) -> None:
    event = NormalizedEvent(
        event_id="5b0c4a1e-0000-5000-8000-000000000000",
        event_type=EventType.UPDATED,
        object_type="contacts",
        object_id="42",
        date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        poll_date=datetime(2026, 1, 2, 3, 5, tzinfo=UTC),
        element_key="democrm",
        hub_key="crm",
        instance_id="crm-1",
        instance_name="Demo CRM",
        source=EventSource.POLLING,
        raw={"id": 42},
    )
    jsonschema.validate(event.model_dump(mode="json", by_alias=True), _load(SCHEMAS_DIR / "event.schema.json"))


def test_asyncapi_parses_and_names_every_topic_of_the_settings() -> None:
    document = _asyncapi()
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    defaults = TopicSettings()
    expected = {defaults.events, defaults.dlq, defaults.cursors, defaults.instances, defaults.elements}
    assert expected <= addresses


def test_asyncapi_bindings_match_the_topics_the_service_creates() -> None:
    bindings = {
        channel["address"]: channel["bindings"]["kafka"] for channel in _asyncapi()["channels"].values()
    }
    for spec in topic_specs(TopicSettings()):
        binding = bindings[spec.name]
        assert binding["topic"] == spec.name
        assert binding["topicConfiguration"]["cleanup.policy"] == [spec.cleanup_policy], spec.name
        assert binding["partitions"] == spec.partitions, spec.name
        if "retention.ms" in spec.configs:
            assert str(binding["topicConfiguration"]["retention.ms"]) == spec.configs["retention.ms"]


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve_pointer(document: Any, pointer: str) -> Any:
    node = document
    for part in pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_asyncapi_references_resolve() -> None:
    document = _asyncapi()
    refs = _refs(document)
    files = {ref for ref in refs if not ref.startswith("#")}
    assert files >= {"./event.schema.json", "./element.schema.json", "./instance.schema.json", "./cursor.schema.json"}
    for ref in files:
        assert (SCHEMAS_DIR / ref).is_file(), f"asyncapi.yaml refers to missing {ref}"
    for ref in refs:
        if ref.startswith("#"):
            _resolve_pointer(document, ref.removeprefix("#"))  # KeyError names the broken reference


def test_asyncapi_headers_name_the_cloudevents_attributes_the_events_carry() -> None:
    components = _asyncapi()["components"]["schemas"]
    event = NormalizedEvent(
        event_id="x", event_type=EventType.CREATED, object_type="t", object_id="1",
        date=datetime(2026, 1, 1, tzinfo=UTC), element_key="e", hub_key="h", instance_id="i",
        instance_name="n", source=EventSource.WEBHOOK, raw=None,
    )
    sent = {name for name, _ in event.cloudevent_headers()}
    assert sent == set(components["cloudEventHeaders"]["properties"])
    assert sent == set(components["cloudEventHeaders"]["required"])
    dlq = components["deadLetterHeaders"]["properties"]
    assert {"error_reason", "error_instance", "error_resource", "error_element", "error_source"} <= set(dlq)
