"""All Prometheus metrics of the service, on one injected `CollectorRegistry` (tests get a fresh one).

Labels are small fixed sets (element, resource, outcome, type, reason): never an instance id or an object id.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

PREFIX = "connector_events"

# Polls and provider calls last from milliseconds to minutes on a large first poll.
_SLOW_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """The service's metrics; one instance per process (or per test), built on `registry`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        # Polling.
        self.polls = Counter(
            f"{PREFIX}_polls_total", "Polls finished, by outcome (ok, failed, page_cap).",
            ["element", "resource", "outcome"], registry=r,
        )
        self.poll_duration = Histogram(
            f"{PREFIX}_poll_duration_seconds", "Wall time of one poll, fetch to hand-off to the committer.",
            ["element"], buckets=_SLOW_BUCKETS, registry=r,
        )
        self.records_fetched = Counter(
            f"{PREFIX}_records_fetched_total", "Records read from provider pages.", ["element", "resource"],
            registry=r,
        )
        self.provider_responses = Counter(
            f"{PREFIX}_provider_responses_total", "Provider HTTP responses by status class (2xx, 4xx, 5xx, error).",
            ["element", "status_class"], registry=r,
        )
        self.rate_limit_waits = Counter(
            f"{PREFIX}_rate_limit_waits_total", "Times a provider asked us to wait (429/503 Retry-After).",
            ["element"], registry=r,
        )
        self.rate_limit_wait_seconds = Counter(
            f"{PREFIX}_rate_limit_wait_seconds_total", "Seconds spent waiting on provider rate limits.",
            ["element"], registry=r,
        )
        self.cursor_lag = Gauge(
            f"{PREFIX}_cursor_lag_seconds", "Largest now - lastPollAt over the element's scheduled resources.",
            ["element"], registry=r,
        )
        self.scheduled_resources = Gauge(
            f"{PREFIX}_scheduled_resources", "(instance, resource) pairs scheduled on this worker.", registry=r,
        )
        self.owned_partitions = Gauge(
            f"{PREFIX}_owned_partitions", "Partitions of the instances topic this worker owns.", registry=r,
        )
        self.commit_duration = Histogram(
            f"{PREFIX}_commit_duration_seconds", "Duration of one group-commit transaction.",
            buckets=_FAST_BUCKETS, registry=r,
        )
        self.commits = Counter(
            f"{PREFIX}_commits_total", "Group-commit transactions, by outcome (committed, aborted).",
            ["outcome"], registry=r,
        )
        # Shared by both paths.
        self.events_published = Counter(
            f"{PREFIX}_events_published_total", "Events acknowledged by Kafka, by source and event type.",
            ["source", "type"], registry=r,
        )
        self.dlq_records = Counter(
            f"{PREFIX}_dlq_records_total", "Records or bodies sent to the dead-letter topic, by source and reason.",
            ["source", "reason"], registry=r,
        )
        # Webhooks.
        self.webhook_requests = Counter(
            f"{PREFIX}_webhook_requests_total", "Webhook requests by element and outcome.",
            ["element", "outcome"], registry=r,
        )
        self.webhook_latency = Histogram(
            f"{PREFIX}_webhook_request_duration_seconds", "Webhook request latency, receipt to response.",
            ["element"], buckets=_FAST_BUCKETS, registry=r,
        )
        self.verification_failures = Counter(
            f"{PREFIX}_webhook_verification_failures_total", "Webhook signature failures by reason.",
            ["element", "reason"], registry=r,
        )
        self.hook_duration = Histogram(
            f"{PREFIX}_hook_duration_seconds", "JavaScript event hook run time.", ["element"],
            buckets=_FAST_BUCKETS, registry=r,
        )
        self.hook_failures = Counter(
            f"{PREFIX}_hook_failures_total", "Event hook failures by reason (error, timeout, memory, shape).",
            ["element", "reason"], registry=r,
        )
        # Registry.
        self.registry_entries = Gauge(
            f"{PREFIX}_registry_entries", "Elements and instances known to this process.", ["kind"], registry=r,
        )
