"""Data health check: duplicates, leakage, imbalance, label mistakes (no Qt)."""
