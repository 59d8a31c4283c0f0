"""gui.common."""
