"""Webhook ingress: receive provider calls, verify them, answer handshakes, normalize with event hooks."""
