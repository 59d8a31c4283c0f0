"""gui.train."""
