"""Webhook settings: parsing with Open Connectors keys, static checks, secrets, delivery ids, instance finder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr, ValidationError

from service.errors import ConfigError, SignatureError
from service.webhooks.spec import GitHubVerification, HmacVerification, SecretSource, WebhookSettings


def test_full_element_settings_parse_with_camel_case_keys() -> None:
    settings = WebhookSettings.model_validate({
        "verification": {"scheme": "hmac", "header": "X-Sig", "algorithm": "sha512", "encoding": "base64",
                         "prefix": "v1=", "timestampHeader": "X-Ts", "tolerance": 60,
                         "signedPayload": "{timestamp}.{body}", "secretConfigKey": "webhook.secret"},
        "handshake": "zoom",
        "deliveryId": "X-Delivery",
        "mapping": {"items": "$.data[*]", "id": "$.id", "type": "$headers.x-event", "objectType": "contacts",
                    "typeMap": {"contact.created": "created"}},
        "event.notification.instance.finder": "account.id|$.account_id",
    })
    assert isinstance(settings.verification, HmacVerification)
    assert settings.verification.tolerance == timedelta(seconds=60)
    assert settings.mapping is not None
    assert settings.mapping.type_map == {"contact.created": "CREATED"}
    assert settings.instance_finder is not None
    assert settings.instance_finder.config_key == "account.id"
    dumped = settings.model_dump(by_alias=True, exclude_none=True)
    assert WebhookSettings.model_validate(dumped) == settings


@pytest.mark.parametrize(
    "raw",
    [
        {"verification": {"scheme": "github"}},
        {"verification": {"scheme": "github", "secret": "a", "secretConfigKey": "b"}},
        {"verification": {"scheme": "carrier-pigeon", "secret": "a"}},
        {"verification": {"scheme": "hmac", "secret": "a"}},
        {"verification": {"scheme": "hmac", "secret": "a", "header": "X", "signedPayload": "{timestamp}{body}"}},
        {"verification": {"scheme": "hmac", "secret": "a", "header": "X", "signedPayload": "nobody"}},
        {"verification": {"scheme": "slack", "secret": "a", "tolerance": 0}},
        {"handshake": "zoom"},
        {"handshake": "teams"},
        {"hook": "done({events: []})", "mapping": {"id": "$.id", "objectType": "x"}},
        {"mapping": {"id": "id", "objectType": "x"}},
        {"mapping": {"id": "$.id", "objectType": "x", "typeMap": {"a": "MAYBE"}}},
        {"mapping": {"id": "$.id[", "objectType": "x"}},
        {"instanceFinder": "no-separator"},
        {"unknownKey": 1},
    ],
    ids=["no-secret", "two-secrets", "unknown-scheme", "hmac-no-header", "timestamp-without-header", "no-body",
         "zero-tolerance", "zoom-without-secret", "unknown-handshake", "hook-and-mapping", "id-not-path",
         "bad-type-map", "bad-path", "bad-finder", "extra-key"],
)
def test_invalid_settings_are_rejected(raw: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        WebhookSettings.model_validate(raw)


def test_secret_reference_is_hidden_and_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GH_WEBHOOK_SECRET", "s3cret")
    settings = WebhookSettings.model_validate({"verification": {"scheme": "github", "secret": "env:GH_WEBHOOK_SECRET"}})
    assert isinstance(settings.verification, GitHubVerification)
    assert "GH_WEBHOOK" not in repr(settings)
    assert settings.verification.resolve({}, where="element github").get_secret_value() == "s3cret"
    monkeypatch.delenv("GH_WEBHOOK_SECRET")
    with pytest.raises(ConfigError):
        settings.verification.resolve({}, where="element github")


def test_config_key_secret_is_taken_literally() -> None:
    source = SecretSource(secret_config_key="webhook.secret")
    assert source.resolve({"webhook.secret": "env:HOME"}, where="x").get_secret_value() == "env:HOME"
    with pytest.raises(SignatureError) as caught:
        source.resolve({}, where="instance crm-1")
    assert caught.value.reason == "no_secret"


def test_zoom_handshake_secret_defaults_to_the_verification_secret() -> None:
    settings = WebhookSettings.model_validate({
        "verification": {"scheme": "hmac", "header": "x-zm-signature", "secretConfigKey": "zoom.token"},
        "handshake": "zoom",
    })
    source = settings.handshake_secret_source()
    assert source is not None
    assert source.resolve({"zoom.token": "tok"}, where="x") == SecretStr("tok")
    own = WebhookSettings.model_validate({"handshake": "zoom", "handshakeSecret": "inline-token"})
    own_source = own.handshake_secret_source()
    assert own_source is not None
    assert own_source.resolve({}, where="x").get_secret_value() == "inline-token"


def test_delivery_id_from_header_or_body() -> None:
    by_header = WebhookSettings(delivery_id="X-GitHub-Delivery")
    assert by_header.delivery_id_of({"x-github-delivery": "72d3162e"}, {}) == "72d3162e"
    assert by_header.delivery_id_of({}, {}) is None
    by_body = WebhookSettings(delivery_id="$.id")
    assert by_body.delivery_id_of({}, {"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy"}) == "evt_1NG8Du2eZvKYlo2CUI79vXWy"
    assert by_body.delivery_id_of({}, {"id": {"nested": 1}}) is None
    assert WebhookSettings().delivery_id_of({"webhook-id": "x"}, {}) is None


def test_instance_finder_values() -> None:
    settings = WebhookSettings.model_validate({"instanceFinder": "realmId|eventNotifications[*].realmId"})
    assert settings.instance_finder is not None
    body = {"eventNotifications": [{"realmId": "1185883450"}, {"realmId": 42}, {"realmId": None}]}
    assert settings.instance_finder.values(body) == ["1185883450", "42"]
    assert settings.instance_finder.values({}) == []
