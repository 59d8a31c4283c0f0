"""engine.project.store."""
