"""gui.start."""
