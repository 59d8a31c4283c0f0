"""gui.evaluate."""
