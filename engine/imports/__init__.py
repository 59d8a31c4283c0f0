"""Bringing a user's images into a project: `api` (the import functions a drop, a dialog or the
CLI calls), `formats` (what each kind of input reads), `pipeline` (validate, copy, commit)."""
