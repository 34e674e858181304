"""Registry changes as the admin API and the CLI make them: apply a manifest, delete an instance or element."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from service.config import Settings
from service.errors import ConfigError
from service.registry.manifest import InstanceCheck, Manifest, check_references
from service.registry.store import RegistryReader, RegistryWriter, stamp_created


@dataclass(frozen=True)
class ApplyResult:
    """What an apply wrote."""

    elements: list[str]
    instances: list[str]


async def apply_manifest(
    settings: Settings,
    manifest: Manifest,
    checks: list[InstanceCheck] | None = None,
    *,
    current: RegistryReader | None = None,
) -> ApplyResult:
    """Validate a manifest against the registry as it is, then write it in one transaction.

    Args:
        settings: where the registry topics are.
        manifest: what to write.
        checks: extra checks of each instance with its element.
        current: a running reader of the registry (the admin API has one); else one is started for the call.

    Raises:
        ConfigError: an instance names an unknown element or fails a check (nothing written).
        PublishError: Kafka refused the write (nothing written).
    """
    async with _registry(settings, current) as registry:
        check_references(manifest, registry.elements, checks)
        writer = RegistryWriter(settings.kafka, settings.topics)
        records = [writer.element_record(element, key=element.key) for element in manifest.elements]
        records += [
            writer.instance_record(stamp_created(instance, registry.instances.get(instance.id)), key=instance.id)
            for instance in manifest.instances
        ]
        await writer.write(records)
    return ApplyResult([e.key for e in manifest.elements], [i.id for i in manifest.instances])


@contextlib.asynccontextmanager
async def _registry(settings: Settings, current: RegistryReader | None) -> AsyncIterator[RegistryReader]:
    if current is not None:
        yield current
        return
    async with RegistryReader(settings.kafka, settings.topics) as reader:
        yield reader


async def delete_instance(settings: Settings, instance_id: str, *, current: RegistryReader | None = None) -> None:
    """Tombstone an instance; its poller stops and tombstones its cursors.

    Raises:
        ConfigError: no such instance.
        PublishError: Kafka refused the write.
    """
    async with _registry(settings, current) as registry:
        if instance_id not in registry.instances:
            raise ConfigError(f"instance {instance_id!r} does not exist")
    writer = RegistryWriter(settings.kafka, settings.topics)
    await writer.write([writer.instance_record(None, key=instance_id)])


async def delete_element(settings: Settings, element_key: str, *, current: RegistryReader | None = None) -> None:
    """Tombstone an element that no instance uses any more.

    Raises:
        ConfigError: no such element, or instances still use it.
        PublishError: Kafka refused the write.
    """
    async with _registry(settings, current) as registry:
        if element_key not in registry.elements:
            raise ConfigError(f"element {element_key!r} does not exist")
        users = sorted(i.id for i in registry.instances.values() if i.element_key == element_key)
        if users:
            raise ConfigError(f"element {element_key!r} is used by instances {users}; delete them first")
    writer = RegistryWriter(settings.kafka, settings.topics)
    await writer.write([writer.element_record(None, key=element_key)])
