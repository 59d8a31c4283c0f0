"""The data health check view."""
