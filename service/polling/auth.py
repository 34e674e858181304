"""How the poller authenticates to a provider: the auth models and the request headers/parameters they build.

Secret values are references (`env:NAME`, `file:/path` or inline) resolved with `resolve_secret` when a read
starts, so a rotated file is picked up on the next poll; they stay `SecretStr` until the request is built, and the
`Redactor` keeps them out of URLs and error texts.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

from service.errors import ConfigError
from service.secrets import resolve_secret

REDACTED = "REDACTED"

# RFC 9110 token characters: a header or parameter name outside them is a configuration mistake (or an attempt
# to smuggle a CR/LF into the request).
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

# Query parameters that carry credentials by convention; their values are redacted from every URL we show,
# including next-page URLs a provider hands back with a key embedded.
SENSITIVE_PARAMS = frozenset(
    {"access_token", "api_key", "apikey", "api-key", "client_secret", "password", "refresh_token", "token", "key"},
)


class _AuthModel(BaseModel):
    # Hide inputs in validation errors: a mistyped discriminator would otherwise print the inline secret.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


@dataclass(frozen=True, slots=True)
class AuthParts:
    """Resolved request parts of one auth configuration; the secret values are never printed.

    Attributes:
        headers: header name -> value to send.
        params: query parameter name -> value to send.
        secrets: the resolved secret values themselves, for redaction (a header holds them prefixed or encoded).
    """

    headers: Mapping[str, SecretStr] = field(default_factory=dict)
    params: Mapping[str, SecretStr] = field(default_factory=dict)
    secrets: tuple[SecretStr, ...] = ()

    def __repr__(self) -> str:
        return f"AuthParts(headers={sorted(self.headers)}, params={sorted(self.params)})"

    def header_values(self) -> dict[str, str]:
        """Return the headers as plain strings, ready for the HTTP client (do not log them)."""
        return {name: value.get_secret_value() for name, value in self.headers.items()}

    def param_values(self) -> dict[str, str]:
        """Return the query parameters as plain strings, ready for the HTTP client (do not log them)."""
        return {name: value.get_secret_value() for name, value in self.params.items()}

    def redactor(self) -> Redactor:
        """Return a redactor hiding these secrets (values and parameter names) in URLs and texts."""
        values = (*self.secrets, *self.headers.values(), *self.params.values())
        return Redactor(secrets=[v.get_secret_value() for v in values], params=self.params.keys())


class NoAuth(_AuthModel):
    """No credentials (a public API, or one the base URL already authorizes)."""

    type: Literal["none"] = "none"

    def parts(self, *, where: str) -> AuthParts:
        """Return no headers and no parameters."""
        return AuthParts()


class BearerAuth(_AuthModel):
    """`Authorization: Bearer <token>`.

    Attributes:
        token: reference to the token (`env:NAME`, `file:/path`, or the token).
    """

    type: Literal["bearer"] = "bearer"
    token: SecretStr

    def parts(self, *, where: str) -> AuthParts:
        """Resolve the token and return the Authorization header.

        Raises:
            ConfigError: the reference cannot be resolved or resolves to an empty token.
        """
        token = _resolve_non_empty(self.token, where=f"{where} auth 'token'")
        header = SecretStr(f"Bearer {token.get_secret_value()}")
        return AuthParts(headers={"Authorization": header}, secrets=(token,))


class BasicAuth(_AuthModel):
    """HTTP basic authentication.

    Attributes:
        username: the user name (may also be a reference).
        password: reference to the password.
    """

    type: Literal["basic"] = "basic"
    username: str = Field(min_length=1)
    password: SecretStr

    def parts(self, *, where: str) -> AuthParts:
        """Resolve both values and return the Authorization header.

        Raises:
            ConfigError: a reference cannot be resolved, or the username holds a colon.
        """
        user = resolve_secret(self.username, where=f"{where} auth 'username'").get_secret_value()
        if ":" in user:
            raise ConfigError(f"{where} auth 'username': a basic-auth user name cannot contain ':'")
        password = resolve_secret(self.password, where=f"{where} auth 'password'")
        encoded = base64.b64encode(f"{user}:{password.get_secret_value()}".encode()).decode("ascii")
        return AuthParts(headers={"Authorization": SecretStr(f"Basic {encoded}")}, secrets=(password,))


class HeaderKeyAuth(_AuthModel):
    """An API key in a named header, for example `X-Api-Key: <key>` or `Authorization: Token <key>`.

    Attributes:
        header: the header name.
        key: reference to the key.
        prefix: text sent before the key, verbatim (include the trailing space: `"Token "`).
    """

    type: Literal["header"] = "header"
    header: str = Field(pattern=_TOKEN.pattern)
    key: SecretStr
    prefix: str = Field(default="", pattern=r"^[^\r\n]*$")

    def parts(self, *, where: str) -> AuthParts:
        """Resolve the key and return the header.

        Raises:
            ConfigError: the reference cannot be resolved or resolves to an empty key.
        """
        key = _resolve_non_empty(self.key, where=f"{where} auth 'key'")
        header = SecretStr(f"{self.prefix}{key.get_secret_value()}")
        return AuthParts(headers={self.header: header}, secrets=(key,))


class QueryKeyAuth(_AuthModel):
    """An API key in a named query parameter, for example `?api_key=<key>`; redacted from every URL shown.

    Attributes:
        param: the query parameter name.
        key: reference to the key.
    """

    type: Literal["query"] = "query"
    param: str = Field(pattern=_TOKEN.pattern)
    key: SecretStr

    def parts(self, *, where: str) -> AuthParts:
        """Resolve the key and return the query parameter.

        Raises:
            ConfigError: the reference cannot be resolved or resolves to an empty key.
        """
        key = _resolve_non_empty(self.key, where=f"{where} auth 'key'")
        return AuthParts(params={self.param: key}, secrets=(key,))


Auth = Annotated[
    NoAuth | BearerAuth | BasicAuth | HeaderKeyAuth | QueryKeyAuth,
    Field(discriminator="type"),
]
"""One provider auth configuration, chosen by its `type`."""

_AUTH_ADAPTER: TypeAdapter[Auth] = TypeAdapter(Auth, config=ConfigDict(hide_input_in_errors=True))


def parse_auth(data: Mapping[str, Any], *, where: str) -> Auth:
    """Validate an auth configuration; the error names the field and the reason, never a value.

    Args:
        data: the configuration object, for example `{"type": "bearer", "token": "env:CRM_TOKEN"}`.
        where: what holds it, for example `instance crm-1`.

    Raises:
        ConfigError: the object is not a valid auth configuration.
    """
    try:
        return _AUTH_ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{where} auth: {problems}") from None


def _resolve_non_empty(reference: SecretStr, *, where: str) -> SecretStr:
    value = resolve_secret(reference, where=where)
    if not value.get_secret_value():
        raise ConfigError(f"{where}: the secret is empty")
    return value


class Redactor:
    """Hides secret values in texts and credential parameters in URLs before they reach a log or an error."""

    # Shorter values would also match innocent text and prove nothing about a leak.
    _MIN_SECRET_LENGTH = 4

    def __init__(self, *, secrets: Iterable[str] = (), params: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if len(s) >= self._MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._params = {p.lower() for p in params} | SENSITIVE_PARAMS

    def text(self, text: str) -> str:
        """Return `text` with every known secret value replaced by `REDACTED`."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def url(self, url: str) -> str:
        """Return `url` without credentials: sensitive query values, userinfo password, and known secrets."""
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            netloc = f"{user}:{REDACTED}@{hostport}" if ":" in userinfo else netloc
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(name.lower() in self._params for name, _ in pairs):
                query = urlencode(
                    [(n, REDACTED if n.lower() in self._params else v) for n, v in pairs], safe="'/:",
                )
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
