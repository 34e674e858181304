"""Provider auth: the request parts each type builds, secret references, and that secrets never print."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from service.errors import ConfigError
from service.polling.auth import (
    REDACTED,
    Auth,
    BasicAuth,
    BearerAuth,
    HeaderKeyAuth,
    NoAuth,
    QueryKeyAuth,
    Redactor,
    parse_auth,
)

SECRET = "s3cr3t-V4lue-xyz"


def test_none_builds_nothing() -> None:
    parts = NoAuth().parts(where="instance i1")
    assert parts.header_values() == {}
    assert parts.param_values() == {}


def test_bearer_inline_token() -> None:
    parts = BearerAuth(token=SECRET).parts(where="instance i1")  # type: ignore[arg-type]
    assert parts.header_values() == {"Authorization": f"Bearer {SECRET}"}


def test_bearer_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TOKEN", SECRET)
    auth = parse_auth({"type": "bearer", "token": "env:CRM_TOKEN"}, where="instance i1")
    assert auth.parts(where="instance i1").header_values() == {"Authorization": f"Bearer {SECRET}"}


def test_file_reference_is_read_at_each_resolution(tmp_path: Path) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text("first\n")
    auth = parse_auth({"type": "header", "header": "X-Api-Key", "key": f"file:{secret_file}"}, where="i1")
    assert auth.parts(where="i1").header_values() == {"X-Api-Key": "first"}
    secret_file.write_text("rotated\n")
    assert auth.parts(where="i1").header_values() == {"X-Api-Key": "rotated"}


def test_missing_env_names_the_field_not_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_TOKEN", raising=False)
    auth = parse_auth({"type": "bearer", "token": "env:NOPE_TOKEN"}, where="instance crm-1")
    with pytest.raises(ConfigError, match=r"instance crm-1 auth 'token': environment variable 'NOPE_TOKEN'"):
        auth.parts(where="instance crm-1")


def test_empty_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPTY_TOKEN", "")
    auth = parse_auth({"type": "bearer", "token": "env:EMPTY_TOKEN"}, where="i1")
    with pytest.raises(ConfigError, match="empty"):
        auth.parts(where="i1")


def test_basic_encodes_user_and_password() -> None:
    parts = BasicAuth(username="ann", password=SECRET).parts(where="i1")  # type: ignore[arg-type]
    header = parts.header_values()["Authorization"]
    assert header.startswith("Basic ")
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == f"ann:{SECRET}"


def test_basic_refuses_colon_in_user() -> None:
    with pytest.raises(ConfigError, match="':'"):
        BasicAuth(username="a:b", password=SECRET).parts(where="i1")  # type: ignore[arg-type]


def test_header_key_with_prefix() -> None:
    auth = HeaderKeyAuth(header="Authorization", key=SECRET, prefix="Token ")  # type: ignore[arg-type]
    assert auth.parts(where="i1").header_values() == {"Authorization": f"Token {SECRET}"}


def test_header_name_with_crlf_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"auth: header\.header: String should match pattern"):
        parse_auth({"type": "header", "header": "X-Key\r\nEvil: 1", "key": SECRET}, where="i1")


def test_query_key() -> None:
    parts = QueryKeyAuth(param="api_key", key=SECRET).parts(where="i1")  # type: ignore[arg-type]
    assert parts.param_values() == {"api_key": SECRET}
    assert parts.header_values() == {}


@pytest.mark.parametrize(
    "data",
    [
        {"type": "bearer", "token": SECRET},
        {"type": "basic", "username": "ann", "password": SECRET},
        {"type": "header", "header": "X-Api-Key", "key": SECRET, "prefix": ""},
        {"type": "query", "param": "api_key", "key": SECRET},
    ],
)
def test_secrets_do_not_print(data: dict[str, str]) -> None:
    auth = parse_auth(data, where="i1")
    parts = auth.parts(where="i1")
    for shown in (repr(auth), str(auth), repr(parts), str(parts), auth.model_dump_json()):
        assert SECRET not in shown
    # What is sent carries the secret (maybe encoded); the redactor hides it in whatever text echoes it.
    sent = " ".join([*parts.header_values().values(), *parts.param_values().values()])
    redacted = parts.redactor().text(f"echo: {sent} / {SECRET}")
    assert SECRET not in redacted
    assert sent not in redacted


def test_parse_error_hides_the_inline_secret() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_auth({"type": "bearr", "token": SECRET}, where="instance i1")
    assert "instance i1 auth" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None


def test_validation_error_of_an_embedding_model_hides_the_secret() -> None:
    class Holder(BaseModel):
        auth: Auth

    with pytest.raises(ValidationError) as caught:
        Holder.model_validate({"auth": {"type": "bearer", "token": SECRET, "extra": 1}})
    assert SECRET not in str(caught.value)


def test_redactor_hides_sensitive_and_auth_params_and_userinfo() -> None:
    redactor = Redactor(secrets=[SECRET], params=["X-Custom-Key"])
    shown = redactor.url(f"https://u:{SECRET}@h.example/a?x-custom-key=abcd&page=2&access_token=zzzz")
    assert SECRET not in shown
    assert "abcd" not in shown
    assert "zzzz" not in shown
    assert "page=2" in shown
    assert shown.startswith(f"https://u:{REDACTED}@h.example/a?")


def test_redactor_hides_secret_anywhere_in_text() -> None:
    redactor = Redactor(secrets=[SECRET])
    assert redactor.text(f"invalid key {SECRET}!") == f"invalid key {REDACTED}!"
    # Only credential parameters are rewritten; an URL without them comes back unchanged.
    assert redactor.url("https://h/a?where=x%3E%3D'2026'") == "https://h/a?where=x%3E%3D'2026'"


def test_basic_redactor_hides_the_decoded_password() -> None:
    parts = BasicAuth(username="ann", password=SECRET).parts(where="i1")  # type: ignore[arg-type]
    assert SECRET not in parts.redactor().text(f"user ann password {SECRET} rejected")
