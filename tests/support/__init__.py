"""Test support shared by tests/unit, tests/gui and tests/e2e: generated images (images),
tiny projects of every task (projects), fake pretrained weights (weights), Qt event helpers
(qt). Import as `from tests.support.<module> import ...`."""
