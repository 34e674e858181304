"""The pure parts of the webhook routes: body reading and parsing, instance resolution, event ids. No I/O."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlencode

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.events import EventType, event_id
from service.registry.models import Element, Instance, ResolvedInstance
from service.webhooks.hooks import HookError, HookEvent
from service.webhooks.normalize import delivery_identity, normalized
from service.webhooks.payload import MalformedPayload, PayloadTooLarge, UnsupportedMediaType, parse, read_limited
from service.webhooks.resolve import (
    InvalidTarget,
    NotAccepting,
    UnknownTarget,
    by_finder,
    by_header,
    by_id,
    decode_instance_id,
    webhook_element,
)
from service.webhooks.spec import WebhookSettings

WHEN = datetime(2026, 5, 1, 10, tzinfo=UTC)


def _element(key: str = "crm", webhook: dict[str, object] | None = None) -> Element:
    return Element.model_validate({"key": key, "configuration": {"event.vendor.type": "webhook"},
                                   "webhook": webhook if webhook is not None else {}})


def _instance(instance_id: str, element: str = "crm", *, enabled: str = "true", **config: str) -> Instance:
    return Instance.model_validate({"id": instance_id, "elementKey": element, "name": instance_id,
                                    "configuration": {"event.notification.enabled": enabled, **config}})


# --- Bodies --------------------------------------------------------------------------------------------------


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_read_limited_refuses_declared_and_streamed_overflow() -> None:
    assert await read_limited(_chunks(b"ab", b"cd"), declared=4, limit=4) == b"abcd"
    with pytest.raises(PayloadTooLarge):
        await read_limited(_chunks(b"ab"), declared=5, limit=4)
    with pytest.raises(PayloadTooLarge):
        await read_limited(_chunks(b"abc", b"de"), declared=None, limit=4)


@pytest.mark.parametrize("content_type", [None, "application/json", "application/vnd.api+json"])
def test_json_bodies_with_json_types_or_none(content_type: str | None) -> None:
    assert parse(b'[{"a": 1}]', content_type).body == [{"a": 1}]


@pytest.mark.parametrize("raw", [b"", b"  ", b"{", b"\xff", b"[" * 2000, b"NaN"])
def test_malformed_json_is_refused(raw: bytes) -> None:
    with pytest.raises(MalformedPayload):
        parse(raw, "application/json")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data", ""])
def test_other_content_types_are_unsupported(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType):
        parse(b"{}", content_type)


def test_form_fields_are_strings_repeats_are_lists_and_payload_json_is_parsed() -> None:
    raw = urlencode([("item_id", "42"), ("tag", "a"), ("tag", "b"), ("empty", ""),
                     ("payload", orjson.dumps({"type": "block_actions"}).decode())]).encode()
    assert parse(raw, "application/x-www-form-urlencoded").body == {
        "item_id": "42", "tag": ["a", "b"], "empty": "", "payload": {"type": "block_actions"}}
    # A payload that is not a JSON object or array stays the string it was.
    assert parse(b"payload=42", "application/x-www-form-urlencoded").body == {"payload": "42"}
    assert parse(b"payload=%7Bnope", "application/x-www-form-urlencoded").body == {"payload": "{nope"}


def test_forms_that_are_not_utf8_or_too_long_are_malformed() -> None:
    with pytest.raises(MalformedPayload):
        parse(b"a=%ff", "application/x-www-form-urlencoded")
    with pytest.raises(MalformedPayload):
        parse(b"&".join([b"a=1"] * 1001), "application/x-www-form-urlencoded")


@given(st.binary(max_size=200), st.sampled_from([None, "application/json", "application/x-www-form-urlencoded"]))
def test_parse_raises_only_payload_errors(raw: bytes, content_type: str | None) -> None:
    with contextlib.suppress(MalformedPayload):
        parse(raw, content_type)


# --- Resolution ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("instance_id", ["ab?>~xy", "12345", "crm-1", "ü"])
def test_base64_ids_standard_or_urlsafe_padded_or_not(instance_id: str) -> None:
    standard = base64.b64encode(instance_id.encode()).decode()
    urlsafe = base64.urlsafe_b64encode(instance_id.encode()).decode()
    for text in {standard, standard.rstrip("="), urlsafe, urlsafe.rstrip("=")}:
        assert decode_instance_id(text) == instance_id


@pytest.mark.parametrize("text", ["!!!!", "a", "/w==", base64.b64encode(b"\xff\xfe").decode(), "ICA="])
def test_bad_base64_ids_are_unknown(text: str) -> None:
    with pytest.raises(UnknownTarget):
        decode_instance_id(text)


def test_elements_must_exist_and_have_webhook_settings() -> None:
    plain = Element.model_validate({"key": "plain"})
    with pytest.raises(UnknownTarget):
        webhook_element({}, "crm")
    with pytest.raises(NotAccepting):
        webhook_element({"plain": plain}, "plain")


def test_by_id_checks_element_and_enabled() -> None:
    element = _element()
    instances = {"a": _instance("a"), "off": _instance("off", enabled="false"), "x": _instance("x", "other"),
                 "bad": _instance("bad", enabled="maybe")}
    assert by_id(element, instances, "a").instance.id == "a"
    with pytest.raises(UnknownTarget):
        by_id(element, instances, "x")
    for disabled in ("off", "bad"):
        with pytest.raises(NotAccepting):
            by_id(element, instances, disabled)


def test_header_lists_ids_once_each_within_a_bound() -> None:
    element = _element()
    instances = {name: _instance(name) for name in ("a", "b")}
    assert [r.instance.id for r in by_header(element, instances, " a, b ,a,, ")] == ["a", "b"]
    with pytest.raises(InvalidTarget):
        by_header(element, instances, " , ")
    with pytest.raises(InvalidTarget):
        by_header(element, instances, ",".join(f"i{n}" for n in range(51)))


def test_finder_matches_configuration_values_and_skips_disabled() -> None:
    element = _element(webhook={"instanceFinder": "account|$.events[*].account"})
    assert element.webhook is not None
    instances = {"a": _instance("a", account="7"), "b": _instance("b", account="8"),
                 "c": _instance("c", account="7"), "off": _instance("off", enabled="false", account="7"),
                 "lonely": _instance("lonely", enabled="false", account="9")}
    body = {"events": [{"account": 7}, {"account": "8"}]}
    assert [r.instance.id for r in by_finder(element, element.webhook, instances, body)] == ["a", "b", "c"]
    with pytest.raises(UnknownTarget):
        by_finder(element, element.webhook, instances, {"events": [{"account": 1}]})
    with pytest.raises(NotAccepting):
        by_finder(element, element.webhook, instances, {"events": [{"account": 9}]})
    with pytest.raises(UnknownTarget):
        by_finder(element, WebhookSettings(), instances, body)


# --- Event ids -----------------------------------------------------------------------------------------------


def test_event_ids_come_from_the_delivery_id_else_the_body_digest() -> None:
    settings = WebhookSettings(delivery_id="X-Delivery")
    assert delivery_identity(settings, {"x-delivery": "d1"}, {}, b"{}") == ["delivery", "d1"]
    identity = delivery_identity(settings, {}, {}, b"{}")
    assert identity[0] == "body"
    assert delivery_identity(WebhookSettings(), {}, {}, b"{}") == identity

    resolved = ResolvedInstance(element=_element(), instance=_instance("a"))
    found = [HookEvent(object_type="contacts", object_id="1", event_type=EventType.CREATED, date=WHEN, raw={})] * 2
    events = normalized(resolved, found, identity=["delivery", "d1"], body={"b": 1})
    assert [e.event_id for e in events] == [event_id("a", "delivery", "d1", "0"), event_id("a", "delivery", "d1", "1")]
    assert events[0].raw == {"b": 1}


def test_normalized_rejects_what_the_event_model_refuses() -> None:
    resolved = ResolvedInstance(element=_element(), instance=_instance("a"))
    naive = HookEvent.model_construct(object_type="t", object_id="1", event_type=EventType.UNKNOWN,
                                      date=datetime(2026, 1, 1), raw={})  # naive: the point of the test
    with pytest.raises(HookError) as caught:
        normalized(resolved, [naive], identity=["body", "x"], body={})
    assert caught.value.reason == "shape"
