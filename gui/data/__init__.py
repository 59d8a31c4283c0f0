"""gui.data."""
