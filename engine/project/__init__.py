"""The project store: `store.Project` (one folder, every change saved at once) and its parts;
`history` (undo), `thumbnails`, `demo`. Never imports engine.training."""
