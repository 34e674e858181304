"""The command line as a user runs it: apply, delete, tail, with exit codes and messages."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from service.bus.producer import EventBus
from service.bus.records import event_record
from service.config import Settings
from service.events import EventSource, EventType, NormalizedEvent, event_id
from tests.integration.test_backbone import MANIFEST

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]


def _env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "CONNECTOR_EVENTS_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers}
    for name in ("events", "dlq", "cursors", "instances", "elements"):
        env[f"CONNECTOR_EVENTS_TOPICS__{name.upper()}"] = getattr(settings.topics, name)
    env["CONNECTOR_EVENTS_TOPICS__PARTITIONS"] = str(settings.topics.partitions)
    env["CONNECTOR_EVENTS_TOPICS__EVENTS_PARTITIONS"] = str(settings.topics.events_partitions)
    return env


async def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "service", *args], cwd=REPO, env=_env(settings),
        capture_output=True, text=True, timeout=60, check=False,
    )


async def test_apply_delete_and_tail(settings: Settings, tmp_path: Path) -> None:
    # No topics yet: `apply` on a new cluster creates them.
    bad = tmp_path / "bad.yaml"
    bad.write_text("instances:\n  - id: x\n    elementKey: democrm\n")
    result = await _cli(settings, "apply", "-f", str(bad))
    assert result.returncode == 1
    assert "instances[0].name: Field required" in result.stderr

    result = await _cli(settings, "apply", "-f", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr

    good = tmp_path / "good.yaml"
    good.write_text(MANIFEST)
    result = await _cli(settings, "apply", "-f", str(good))
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout) == {"applied": {"elements": ["democrm"], "instances": ["crm-1"]}}

    result = await _cli(settings, "delete", "instance", "crm-1")
    assert (result.returncode, result.stdout.strip()) == (0, "deleted instance crm-1")
    result = await _cli(settings, "delete", "instance", "crm-1")
    assert result.returncode == 1
    assert "instance 'crm-1' does not exist" in result.stderr

    event = NormalizedEvent(
        event_id=event_id("cli"), event_type=EventType.CREATED, object_type="contacts", object_id="9",
        date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), element_key="democrm", hub_key="crm", instance_id="crm-1",
        instance_name="Demo", source=EventSource.POLLING, raw={"id": 9},
    )
    async with EventBus(settings.kafka) as bus:
        await bus.publish([event_record(settings.topics.events, event)])
    result = await _cli(settings, "tail", "--from-beginning", "-n", "1", "--timeout", "20")
    assert result.returncode == 0, result.stderr
    line = orjson.loads(result.stdout.splitlines()[0])
    assert (line["eventId"], line["date"], line["objectId"]) == (event_id("cli"), "2026-01-02T03:04:05Z", "9")


async def test_bad_settings_stop_the_start_with_the_variable_named(settings: Settings) -> None:
    env = {**_env(settings), "CONNECTOR_EVENTS_HTTP__PORT": "eighty"}
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "service", "run"], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert "CONNECTOR_EVENTS_HTTP__PORT (http.port)" in result.stderr
