"""Declarative mapping: the path language and bodies mapped to events without JavaScript."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.events import EventType
from service.webhooks.hooks import HookError
from service.webhooks.mapping import EventMapping, JsonPath, map_events

RECEIVED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DOC = {"data": [{"id": 1, "tags": ["a", "b"]}, {"id": 2, "tags": []}], "x-y": {"z": True}, "n": None}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", [DOC]),
        ("$.data[0].id", [1]),
        ("$.data[-1].id", [2]),
        ("$.data[*].id", [1, 2]),
        ("$.data[*].tags[*]", ["a", "b"]),
        ("$['x-y'].z", [True]),
        ('$["x-y"]["z"]', [True]),
        ("$.data[5].id", []),
        ("$.missing.deeper", []),
        ("$.n", [None]),
        ("$.data.id", []),
    ],
)
def test_paths_select(path: str, expected: list[object]) -> None:
    assert JsonPath.parse(path).select(DOC) == expected


def test_roots_body_and_headers() -> None:
    assert JsonPath.parse("$body.n").select("item", body={"n": 5}) == [5]
    assert JsonPath.parse("$headers.x-github-event").select({}, headers={"X-GitHub-Event": "push"}) == ["push"]


@pytest.mark.parametrize("path", ["data.id", "$.", "$.a[", "$.a[x]", "$$", "$.a..b", "$foo.a"])
def test_bad_paths_are_rejected(path: str) -> None:
    with pytest.raises(ValueError, match="path"):
        JsonPath.parse(path)


def mapping(**fields: object) -> EventMapping:
    return EventMapping.model_validate(fields)


def test_hubspot_style_batched_array() -> None:
    body = [
        {"objectId": 1246965, "subscriptionType": "contact.creation", "occurredAt": 1714557600000},
        {"objectId": 1246978, "subscriptionType": "contact.propertyChange", "occurredAt": 1714557601000},
        {"objectId": 9, "subscriptionType": "contact.deletion", "occurredAt": 1714557602000},
    ]
    spec = mapping(
        id="$.objectId", type="$.subscriptionType", date="$.occurredAt", dateFormat="milliseconds",
        objectType="contacts",
        typeMap={"contact.creation": "CREATED", "contact.propertyChange": "UPDATED", "contact.deletion": "DELETED"},
    )
    found = map_events(spec, body, {}, received_at=RECEIVED, where="element hubspot, instance hs-1")
    assert [(e.object_id, e.event_type) for e in found] == [
        ("1246965", EventType.CREATED), ("1246978", EventType.UPDATED), ("9", EventType.DELETED)
    ]
    assert found[0].date == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert found[0].raw == body[0]


def test_items_path_and_type_from_header_with_synonym_fallback() -> None:
    body = {"events": [{"record": {"id": "c-1", "kind": "contacts"}, "ts": "2024-05-01T09:00:00Z"}]}
    spec = mapping(items="$.events", id="$.record.id", objectType="$.record.kind", type="$headers.x-action",
                   date="$.ts")
    (event,) = map_events(spec, body, {"X-Action": "deleted"}, received_at=RECEIVED, where="w")
    assert (event.object_type, event.object_id, event.event_type) == ("contacts", "c-1", EventType.DELETED)
    assert event.date == datetime(2024, 5, 1, 9, tzinfo=UTC)


def test_stripe_single_object_body_with_wildcard_free_paths() -> None:
    body = {"id": "evt_1", "type": "customer.updated", "created": 1686089970,
            "data": {"object": {"id": "cus_1", "object": "customer"}}}
    spec = mapping(id="$.data.object.id", objectType="$.data.object.object", type="$.type", date="$.created",
                   typeMap={"customer.updated": "UPDATED"})
    (event,) = map_events(spec, body, {}, received_at=RECEIVED, where="w")
    assert (event.object_type, event.object_id, event.event_type) == ("customer", "cus_1", EventType.UPDATED)
    assert event.date == datetime(2023, 6, 6, 22, 19, 30, tzinfo=UTC)


def test_wildcard_items_and_root_values() -> None:
    body = {"realm": "r1", "entities": {"Customer": [{"id": "1"}], "Invoice": [{"id": "2"}, {"id": "3"}]}}
    spec = mapping(items="$.entities[*][*]", id="$.id", objectType="$body.realm", type="UPDATED")
    found = map_events(spec, body, {}, received_at=RECEIVED, where="w")
    assert [(e.object_type, e.object_id, e.event_type, e.date) for e in found] == [
        ("r1", "1", EventType.UPDATED, RECEIVED), ("r1", "2", EventType.UPDATED, RECEIVED),
        ("r1", "3", EventType.UPDATED, RECEIVED),
    ]


def test_box_form_fields_as_strings() -> None:
    form = {"item_id": "123456789", "item_type": "file", "event_type": "uploaded"}
    spec = mapping(id="$.item_id", objectType="$.item_type", type="$.event_type", typeMap={"uploaded": "CREATED"})
    (event,) = map_events(spec, form, {}, received_at=RECEIVED, where="w")
    assert (event.object_type, event.object_id, event.event_type) == ("file", "123456789", EventType.CREATED)


def test_unmapped_types_are_unknown_and_empty_arrays_yield_nothing() -> None:
    spec = mapping(id="$.id", objectType="things", type="$.type")
    (event,) = map_events(spec, {"id": 5, "type": "sparkled"}, {}, received_at=RECEIVED, where="w")
    assert event.event_type is EventType.UNKNOWN
    assert map_events(spec, [], {}, received_at=RECEIVED, where="w") == []


@pytest.mark.parametrize(
    ("spec", "body", "fragment"),
    [
        (mapping(items="$.data", id="$.id", objectType="x"), {"other": []}, "$.data found nothing"),
        (mapping(id="$.record.id", objectType="x"), {"record": {}}, "item 0: $.record.id found nothing"),
        (mapping(id="$.id", objectType="x"), [{"id": 1}, {"id": ""}], "item 1: $.id must be a non-empty"),
        (mapping(id="$.id", objectType="x"), {"id": True}, "$.id found a boolean"),
        (mapping(id="$.id", objectType="x"), {"id": {"a": 1}}, "$.id must be a non-empty"),
        (mapping(id="$.id", objectType="$.kind"), {"id": 1}, "$.kind found nothing"),
        (mapping(id="$.id", objectType="x", date="$.at"), {"id": 1, "at": "soon"}, "$.at"),
        (mapping(id="$.id", objectType="x", date="$.at", dateFormat="epoch"), {"id": 1, "at": "2024-01-01"},
         "$.at"),
    ],
    ids=["items", "id", "empty-id", "boolean-id", "object-id", "object-type", "date", "date-format"],
)
def test_shape_errors_name_the_path(spec: EventMapping, body: object, fragment: str) -> None:
    with pytest.raises(HookError) as caught:
        map_events(spec, body, {}, received_at=RECEIVED, where="element crm, instance crm-1")
    assert caught.value.reason == "shape"
    assert fragment in str(caught.value)
    assert "instance crm-1" in str(caught.value)
