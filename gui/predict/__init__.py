"""gui.predict."""
