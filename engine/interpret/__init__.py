"""Model interpretation: Grad-CAM heatmaps and uncertainty ranking (no Qt)."""
