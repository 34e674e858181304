"""Tests of connector-events."""
