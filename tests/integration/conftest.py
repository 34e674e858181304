"""Settings pointing at the session's broker with topics of this test only (uuid suffix)."""

from __future__ import annotations

import pytest

from service.config import Settings, load_settings


@pytest.fixture
def settings(kafka_bootstrap: str, topic_suffix: str) -> Settings:
    """Settings for one test: its own topics, small partition counts, a free HTTP port."""
    return load_settings(
        kafka={"bootstrap_servers": kafka_bootstrap, "transactional_id_prefix": f"ce-test-{topic_suffix}"},
        topics={
            "events": f"events-{topic_suffix}",
            "dlq": f"dlq-{topic_suffix}",
            "cursors": f"cursors-{topic_suffix}",
            "instances": f"instances-{topic_suffix}",
            "elements": f"elements-{topic_suffix}",
            "partitions": 3,
            "events_partitions": 2,
        },
        http={"host": "127.0.0.1", "port": 0},
        polling={"group_id": f"pollers-{topic_suffix}", "commit_interval": "50ms"},
        log_format="text",
    )
