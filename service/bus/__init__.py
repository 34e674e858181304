"""Kafka: topic set-up, the idempotent event producer, and per-partition transactional group commit."""
