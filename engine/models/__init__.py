"""engine.models.registry."""
