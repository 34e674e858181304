"""Elements (connectors) and instances (connected accounts): their models, their topics, their loading."""

from service.registry.models import Element, Instance, VendorType

__all__ = ["Element", "Instance", "VendorType"]
