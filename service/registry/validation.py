"""Checks an instance must pass, with its element, before it is written: what the models alone cannot see."""

from __future__ import annotations

from service.polling.resources import PollerConfiguration
from service.registry.manifest import InstanceCheck
from service.registry.models import POLLER_CONFIGURATION, ResolvedInstance


def check_polling(resolved: ResolvedInstance) -> None:
    """A polling instance has a base URL, a valid refresh interval and a valid poller configuration.

    Raises:
        ValueError or ConfigError: naming the key and the reason.
    """
    if not resolved.polling_enabled:
        return
    if resolved.instance.base_url is None:
        raise ValueError("baseUrl is required for polling")
    _ = resolved.refresh_interval
    configuration = resolved.config(POLLER_CONFIGURATION)
    if configuration is None:
        raise ValueError(f"{POLLER_CONFIGURATION} is required for polling (on the instance or its element)")
    PollerConfiguration.parse(configuration)


def instance_checks() -> list[InstanceCheck]:
    """The checks `apply` and the admin API run on every instance."""
    return [check_polling]
