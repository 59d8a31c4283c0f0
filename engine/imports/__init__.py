"""engine.imports."""
