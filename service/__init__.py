"""connector-events: changes at SaaS API providers as normalized events on Kafka."""
