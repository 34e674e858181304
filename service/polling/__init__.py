"""Polling: ask provider resources for records changed since the last poll and turn them into events."""
