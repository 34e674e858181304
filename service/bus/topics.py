"""The five topics of the service: their required shape, creation at start, and the check of existing ones.

An existing topic with the wrong cleanup policy or partition count stops the start: silently polling with cursors
in the wrong partitions would lose or duplicate events.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from service.config import TopicSettings
from service.errors import ConfigError, TopicMismatchError

log = logging.getLogger(__name__)

COMPACT = "compact"
_VISIBLE_TIMEOUT = 30.0
DELETE = "delete"


@dataclass(frozen=True)
class TopicSpec:
    """What a topic must look like."""

    name: str
    partitions: int
    cleanup_policy: str
    # Partition count matters where keys are placed by partition (instances, cursors); elsewhere any count works.
    exact_partitions: bool
    configs: dict[str, str] = field(default_factory=dict)


def topic_specs(topics: TopicSettings) -> list[TopicSpec]:
    """The topics of the design with their policies."""
    retention_ms = str(int(topics.events_retention.total_seconds() * 1000))
    return [
        TopicSpec(topics.events, topics.events_partitions, DELETE, False, {"retention.ms": retention_ms}),
        TopicSpec(topics.dlq, topics.events_partitions, DELETE, False, {"retention.ms": retention_ms}),
        TopicSpec(topics.cursors, topics.partitions, COMPACT, True),
        TopicSpec(topics.instances, topics.partitions, COMPACT, True),
        TopicSpec(topics.elements, 1, COMPACT, False),
    ]


async def ensure_topics(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec], *, replication_factor: int, create: bool
) -> None:
    """Create missing topics, then check that every topic has the required shape.

    Raises:
        TopicMismatchError: an existing topic has the wrong cleanup policy or partition count.
        ConfigError: a topic is missing and creation is off, or the broker refused to create it.
    """
    existing = await _partition_counts(admin, [spec.name for spec in specs])
    missing = [spec for spec in specs if spec.name not in existing]
    if missing and not create:
        raise ConfigError(f"topics missing and topic creation is off: {', '.join(s.name for s in missing)}")
    if missing:
        await _create(admin, missing, replication_factor)
        existing = await _wait_until_visible(admin, specs, missing)
    policies = await _cleanup_policies(admin, [spec.name for spec in specs])
    problems: list[str] = []
    for spec in specs:
        policy = policies.get(spec.name, DELETE)
        if set(policy.split(",")) != {spec.cleanup_policy}:
            problems.append(f"topic {spec.name!r} has cleanup.policy={policy}, expected {spec.cleanup_policy}")
        count = existing.get(spec.name, 0)
        if spec.exact_partitions and count != spec.partitions:
            problems.append(f"topic {spec.name!r} has {count} partitions, expected {spec.partitions}")
    if problems:
        raise TopicMismatchError("; ".join(problems) + " (fix the topic or the CONNECTOR_EVENTS_TOPICS__* settings)")


async def _create(admin: AIOKafkaAdminClient, specs: list[TopicSpec], replication_factor: int) -> None:
    new = [
        NewTopic(
            spec.name,
            num_partitions=spec.partitions,
            replication_factor=replication_factor,
            topic_configs={"cleanup.policy": spec.cleanup_policy, **spec.configs},
        )
        for spec in specs
    ]
    response = await admin.create_topics(new)
    for name, code, *rest in response.topic_errors:
        if code == 0:
            log.info("created topic", extra={"topic": name})
            continue
        error = for_code(code)
        if error is TopicAlreadyExistsError:  # another replica won the race
            continue
        message = rest[0] if rest else ""
        raise ConfigError(f"cannot create topic {name!r}: {error.__name__} {message or ''}".rstrip())


async def _wait_until_visible(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec], created: list[TopicSpec]
) -> dict[str, int]:
    """Created topics reach the metadata of every broker a little later; wait until all of them show."""
    names = [spec.name for spec in specs]
    deadline = asyncio.get_running_loop().time() + _VISIBLE_TIMEOUT
    while True:
        counts = await _partition_counts(admin, names)
        if all(counts.get(spec.name) == spec.partitions for spec in created):
            return counts
        if asyncio.get_running_loop().time() > deadline:
            return counts  # the check below reports what is still wrong
        await asyncio.sleep(0.1)


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    # Describe only topics that exist: a metadata request naming a missing topic makes a broker with
    # auto.create.topics.enable create it with default (wrong) settings.
    present = set(await admin.list_topics()) & set(names)
    if not present:
        return {}
    described: list[dict[str, Any]] = await admin.describe_topics(sorted(present))
    return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}


async def _cleanup_policies(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, str]:
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, configs={"cleanup.policy": None}) for name in names]
    policies: dict[str, str] = {}
    for response in await admin.describe_configs(resources):
        for _code, _message, _type, name, entries in response.resources:
            for entry in entries:
                if entry[0] == "cleanup.policy":
                    policies[name] = entry[1]
    return policies
