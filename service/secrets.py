"""Secret references: a value given inline, or as `env:NAME` / `file:/path` so it never sits in a topic.

Resolved values are `SecretStr` so that they print as `**********` in logs, errors and API responses.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr

from service.errors import ConfigError

ENV_PREFIX = "env:"
FILE_PREFIX = "file:"


def resolve_secret(reference: str | SecretStr, *, where: str) -> SecretStr:
    """Return the secret a reference points to.

    Args:
        reference: `env:NAME` (environment variable), `file:/path` (file content, trailing newline stripped),
            or the secret itself.
        where: what holds the reference (for example `instance crm-1 configuration 'webhook.secret'`);
            named in errors, the secret never is.

    Raises:
        ConfigError: the variable is unset or the file cannot be read.
    """
    raw = reference.get_secret_value() if isinstance(reference, SecretStr) else reference
    if raw.startswith(ENV_PREFIX):
        name = raw.removeprefix(ENV_PREFIX)
        value = os.environ.get(name)
        if value is None:
            raise ConfigError(f"{where}: environment variable {name!r} is not set")
        return SecretStr(value)
    if raw.startswith(FILE_PREFIX):
        path = Path(raw.removeprefix(FILE_PREFIX))
        try:
            return SecretStr(path.read_text(encoding="utf-8").rstrip("\r\n"))
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read secret file {str(path)!r}: {exc.strerror}") from exc
    return SecretStr(raw)
