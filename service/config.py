"""Process settings: one pydantic-settings model with nested groups, read from env vars and an optional YAML file.

Env vars use the prefix `CONNECTOR_EVENTS_` and `__` between levels, e.g. `CONNECTOR_EVENTS_KAFKA__BOOTSTRAP_SERVERS`.
Settings are validated once at start; an invalid value stops the process with the variable named.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from service.errors import ConfigError

ENV_PREFIX = "CONNECTOR_EVENTS_"
ENV_DELIMITER = "__"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _parse_duration(value: object) -> object:
    """Accept `500ms`, `20s`, `5m`, `1h`, `7d` and bare numbers (seconds) besides pydantic's own forms."""
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"])
    return value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KafkaSettings(_Group):
    """How to reach the Kafka cluster."""

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    client_id: str = "connector-events"
    # Transactional ids are `{prefix}-p{partition}`: two deployments sharing a cluster need different prefixes.
    transactional_id_prefix: str = "connector-events"
    transaction_timeout: Duration = timedelta(seconds=120)
    request_timeout: Duration = timedelta(seconds=30)

    @model_validator(mode="after")
    def _sasl_complete(self) -> KafkaSettings:
        if self.security_protocol.startswith("SASL_") and not (
            self.sasl_mechanism and self.sasl_username and self.sasl_password
        ):
            raise ValueError("SASL protocols need sasl_mechanism, sasl_username and sasl_password")
        return self

    def client_options(self) -> dict[str, Any]:
        """Connection options shared by every aiokafka client of the process."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
            "client_id": self.client_id,
            "request_timeout_ms": int(self.request_timeout.total_seconds() * 1000),
        }
        if self.sasl_mechanism:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password.get_secret_value() if self.sasl_password else None
        if self.security_protocol.endswith("SSL"):
            from aiokafka.helpers import create_ssl_context  # noqa: PLC0415 - only TLS deployments pay for it

            options["ssl_context"] = create_ssl_context(cafile=str(self.ssl_cafile) if self.ssl_cafile else None)
        return options


class TopicSettings(_Group):
    """Topic names and the shape the service creates them with."""

    events: str = "connector-events"
    dlq: str = "connector-events-dlq"
    cursors: str = "connector-poll-cursors"
    instances: str = "connector-instances"
    elements: str = "connector-elements"
    # Instances and cursors share this count: a cursor lives in the partition of its instance.
    partitions: int = Field(default=12, ge=1, le=10_000)
    events_partitions: int = Field(default=12, ge=1, le=10_000)
    replication_factor: int = Field(default=1, ge=1, le=10)
    events_retention: Duration = timedelta(days=7)
    create: bool = True


class HttpSettings(_Group):
    """The aiohttp server: webhooks, admin API, health and metrics."""

    host: str = "0.0.0.0"  # noqa: S104 - a container listens on all interfaces
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    # The admin API (/admin/...) is served only when a token is set; callers send `Authorization: Bearer <token>`.
    admin_token: SecretStr | None = None


class PollingSettings(_Group):
    """The poller: ownership group, concurrency caps, commit cadence."""

    group_id: str = "connector-events-pollers"
    max_concurrent_polls: int = Field(default=64, ge=1)
    max_polls_per_host: int = Field(default=4, ge=1)
    # Fraction of the interval by which due times are spread, so instances added together do not poll together.
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    max_pages: int = Field(default=1000, ge=1)
    # A poll holding more events than this streams them into an exclusive transaction instead of buffering.
    max_buffered_events: int = Field(default=5000, ge=1)
    commit_interval: Duration = timedelta(milliseconds=200)
    request_timeout: Duration = timedelta(seconds=30)
    max_attempts: int = Field(default=4, ge=1)
    retry_base_delay: Duration = timedelta(milliseconds=500)
    retry_max_delay: Duration = timedelta(seconds=30)
    max_retry_after: Duration = timedelta(minutes=5)


class HookSettings(_Group):
    """The JavaScript event hook sandbox."""

    workers: int = Field(default=2, ge=1)
    time_limit: Duration = timedelta(seconds=1)
    memory_limit_bytes: int = Field(default=32 << 20, ge=1 << 20)


class Settings(BaseSettings):
    """Everything the process needs to run; built once at start."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_DELIMITER, extra="forbid", case_sensitive=False,
    )
    yaml_file: ClassVar[Path | None] = None

    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    http: HttpSettings = HttpSettings()
    polling: PollingSettings = PollingSettings()
    hooks: HookSettings = HookSettings()
    role: Literal["all", "poller", "ingress"] = "all"
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # SIGTERM: in-flight polls get this long to finish and commit. Keep it below the pod's termination grace.
    grace_period: Duration = timedelta(seconds=20)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Env vars override the YAML file, which overrides the defaults."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.yaml_file is not None:
            sources.append(_YamlSource(settings_cls, cls.yaml_file))
        return tuple(sources)


class _YamlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"settings file {str(path)!r} cannot be read: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"settings file {str(path)!r} must hold a mapping at the top level")
        self._data: dict[str, Any] = loaded

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build and validate the settings.

    Raises:
        ConfigError: naming each bad env variable (or file key) and what was wrong with it.
    """
    Settings.yaml_file = config_file
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            path = [str(part) for part in error["loc"]]
            variable = ENV_PREFIX + ENV_DELIMITER.join(path).upper()
            problems.append(f"{variable} ({'.'.join(path)}): {error['msg']}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None
    finally:
        Settings.yaml_file = None
