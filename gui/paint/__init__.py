"""The segmentation mask editor: pixel tools (tools), the overlay canvas (canvas), mouse and
keys (input) and the tool bar with its commands (editor)."""
