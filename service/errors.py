"""The service's error tree: one root with a `retriable` flag, one branch per failure domain.

Errors become HTTP statuses only at the webhook and admin edges; everywhere else they carry a message that
names the instance, the resource, the field and what was expected.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Root of every error the service raises on purpose.

    Attributes:
        retriable: whether the same operation may succeed when tried again later.
    """

    retriable: bool = False

    def __init__(self, message: str, *, retriable: bool | None = None) -> None:
        super().__init__(message)
        if retriable is not None:
            self.retriable = retriable


class ConfigError(ServiceError):
    """Settings, element or instance definitions are invalid (never retriable)."""


class UpstreamError(ServiceError):
    """The provider API failed: HTTP error after retries, timeout, bad JSON."""

    retriable = True

    def __init__(self, message: str, *, status: int | None = None, retriable: bool | None = None) -> None:
        super().__init__(message, retriable=retriable)
        self.status = status


class NormalizationError(ServiceError):
    """A record or webhook body cannot become a normalized event (it goes to the dead-letter topic)."""


class PublishError(ServiceError):
    """Kafka did not acknowledge a write; the caller must not report success."""

    retriable = True


class SignatureError(ServiceError):
    """A webhook failed verification; `reason` is a short fixed token used as a metric label."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, retriable=False)
        self.reason = reason


class TopicMismatchError(ConfigError):
    """An existing Kafka topic has the wrong cleanup policy or partition count."""
