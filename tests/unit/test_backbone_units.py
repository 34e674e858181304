"""Settings, the event model, manifests, secret references and log lines: pure, no I/O."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from pydantic import SecretStr, ValidationError

from service.bus.records import dead_letter_record, dumps, event_record, stored_dumps
from service.config import load_settings
from service.errors import ConfigError
from service.events import EventSource, EventType, NormalizedEvent, event_id, isoformat_z
from service.logs import JsonFormatter
from service.registry.manifest import parse_manifest
from service.registry.models import Element, Instance, ResolvedInstance, VendorType
from service.secrets import resolve_secret


def test_settings_from_env_with_durations_and_nested_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_EVENTS_KAFKA__BOOTSTRAP_SERVERS", "kafka-0:9092,kafka-1:9092")
    monkeypatch.setenv("CONNECTOR_EVENTS_GRACE_PERIOD", "45s")
    monkeypatch.setenv("CONNECTOR_EVENTS_POLLING__COMMIT_INTERVAL", "250ms")
    monkeypatch.setenv("CONNECTOR_EVENTS_TOPICS__EVENTS_RETENTION", "3d")
    settings = load_settings()
    assert settings.kafka.bootstrap_servers == "kafka-0:9092,kafka-1:9092"
    assert settings.grace_period == timedelta(seconds=45)
    assert settings.polling.commit_interval == timedelta(milliseconds=250)
    assert settings.topics.events_retention == timedelta(days=3)


def test_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_EVENTS_TOPICS__PARTITIONS", "many")
    with pytest.raises(ConfigError, match=r"CONNECTOR_EVENTS_TOPICS__PARTITIONS \(topics\.partitions\)"):
        load_settings()


def test_sasl_needs_credentials_and_password_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_EVENTS_KAFKA__SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    with pytest.raises(ConfigError, match="sasl_mechanism, sasl_username and sasl_password"):
        load_settings()
    monkeypatch.setenv("CONNECTOR_EVENTS_KAFKA__SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("CONNECTOR_EVENTS_KAFKA__SASL_USERNAME", "svc")
    monkeypatch.setenv("CONNECTOR_EVENTS_KAFKA__SASL_PASSWORD", "hunter2")
    settings = load_settings()
    assert "hunter2" not in repr(settings)
    assert settings.kafka.client_options()["sasl_plain_password"] == "hunter2"


def test_yaml_settings_file_is_overridden_by_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("http:\n  port: 9000\nlog_level: DEBUG\n")
    monkeypatch.setenv("CONNECTOR_EVENTS_HTTP__PORT", "9100")
    settings = load_settings(path)
    assert (settings.http.port, settings.log_level) == (9100, "DEBUG")


def _event(**changes: object) -> NormalizedEvent:
    fields: dict[str, object] = {
        "event_id": event_id("a"),
        "event_type": EventType.CREATED,
        "object_type": "contacts",
        "object_id": "42",
        "date": datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-8))),
        "element_key": "crm",
        "hub_key": "crm",
        "instance_id": "i-1",
        "instance_name": "One",
        "source": EventSource.POLLING,
        "raw": {"id": 42},
        **changes,
    }
    return NormalizedEvent.model_validate(fields)


def test_event_json_is_camel_case_utc_z_and_keyed_per_object() -> None:
    record = event_record("events", _event(poll_date=datetime(2026, 3, 1, 18, 0, 0, 123000, tzinfo=UTC)))
    value = orjson.loads(record.value or b"")
    assert value["date"] == "2026-03-01T17:30:00Z"
    assert value["pollDate"] == "2026-03-01T18:00:00.123Z"
    assert value["eventType"] == "CREATED" and value["instanceTags"] == []
    assert record.key == b"i-1:contacts:42"
    assert dict(record.headers)["ce_subject"] == b"contacts/42"


def test_event_ids_are_deterministic_and_dates_must_be_aware() -> None:
    assert event_id("i-1", "contacts", "42") == event_id("i-1", "contacts", "42")
    assert event_id("i-1", "contacts", "42") != event_id("i-1", "contacts", "43")
    with pytest.raises(ValidationError, match="timezone-aware"):
        _event(date=datetime(2026, 3, 1))
    assert isoformat_z(datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC)) == "2026-01-01T00:00:00.000005Z"


def test_manifest_errors_name_document_position_and_field() -> None:
    text = "elements:\n  - key: a/b\ninstances:\n  - id: x\n    elementKey: a\n    name: X\n    baseUrl: nope\n"
    with pytest.raises(ConfigError) as raised:
        parse_manifest(text, source="crm.yaml")
    message = str(raised.value)
    assert "crm.yaml: elements[0].key" in message
    assert "crm.yaml: instances[0].baseUrl" in message
    with pytest.raises(ConfigError, match="unknown top-level keys"):
        parse_manifest("element: []\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_manifest("elements: [\n")


def test_configuration_resolution_instance_over_element() -> None:
    element = Element.model_validate(
        {
            "key": "crm",
            "configuration": {"event.vendor.type": "polling", "event.poller.refresh_interval": "15"},
        }
    )
    instance = Instance.model_validate(
        {
            "id": "i",
            "elementKey": "crm",
            "name": "I",
            "configuration": {"event.notification.enabled": "true", "event.poller.refresh_interval": 0.5, "site": "eu"},
        }
    )
    resolved = ResolvedInstance(element=element, instance=instance)
    assert resolved.polling_enabled and not resolved.webhooks_enabled
    assert resolved.refresh_interval == timedelta(seconds=30)
    assert resolved.string_config()["event.poller.refresh_interval"] == "0.5"
    off = ResolvedInstance(element=element, instance=instance.model_copy(update={"configuration": {}}))
    assert not off.polling_enabled  # Open Connectors default: events off until enabled
    assert Element.model_validate({"key": "w", "configuration": {"event.vendor.type": "webhooks"}}).vendor_type == (
        VendorType.WEBHOOK
    )
    with pytest.raises(ValidationError, match="polling, webhook or both"):
        Element.model_validate({"key": "w", "configuration": {"event.vendor.type": "push"}})


def test_stored_definitions_keep_secrets_but_api_output_masks_them() -> None:
    instance = Instance.model_validate(
        {
            "id": "i",
            "elementKey": "crm",
            "name": "I",
            "auth": {"type": "bearer", "token": "tok-123"},
        }
    )
    assert b"tok-123" in stored_dumps(instance)
    assert b"tok-123" not in dumps(instance)
    assert "tok-123" not in repr(instance)


def test_secret_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", "s1")
    (tmp_path / "secret").write_text("s2\n")
    assert resolve_secret("env:HOOK_SECRET", where="x").get_secret_value() == "s1"
    assert resolve_secret(f"file:{tmp_path / 'secret'}", where="x").get_secret_value() == "s2"
    assert resolve_secret(SecretStr("inline"), where="x").get_secret_value() == "inline"
    with pytest.raises(ConfigError, match="instance i: environment variable 'NOPE' is not set"):
        resolve_secret("env:NOPE", where="instance i")
    with pytest.raises(ConfigError, match="cannot read secret file"):
        resolve_secret(f"file:{tmp_path / 'missing'}", where="x")


def test_dead_letter_keeps_the_input_and_says_why() -> None:
    record = dead_letter_record(
        "dlq",
        key="i:contacts:?",
        value=b'{"id": null}',
        reason="missing id field 'id'",
        context={"instance": "i", "resource": "contacts", "element": None},
    )
    assert record.value == b'{"id": null}'
    assert dict(record.headers) == {
        "error_reason": b"missing id field 'id'",
        "error_instance": b"i",
        "error_resource": b"contacts",
    }


def test_json_log_lines_carry_extra_fields() -> None:
    record = logging.LogRecord("svc", logging.INFO, __file__, 1, "poll done", None, None)
    record.instance = "i-1"
    line = orjson.loads(JsonFormatter().format(record))
    assert line["msg"] == "poll done" and line["instance"] == "i-1" and line["level"] == "INFO"
