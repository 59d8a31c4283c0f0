"""What every command shares: one way to open a project, one error style.

A command either returns its exit code or raises; `cli.main.run` turns what it raises into ONE
line on stderr, `error: <what went wrong, naming the file>`, and exit status 1 (130 for Ctrl-C,
141 for a closed pipe), never a traceback:
- `UsageError`: an option or argument the user can correct (raised by the commands);
- `engine.errors.EngineError`: the engine's own messages (a folder that is not a project, a
  model file that cannot be read, a training that diverged, ...);
- `OSError`: what the disk or the system refused, with the path it names.
"""

from __future__ import annotations

import os
import sys

from engine.errors import shown


class UsageError(Exception):
    """An option or argument the user can correct; printed as `error: <message>`."""


def error_prefix() -> str:
    """`error`, or under torchrun on a process other than the first `error (process N)`, so
    that the lines of several processes tell which one failed."""
    rank = os.environ.get("RANK", "0") if "WORLD_SIZE" in os.environ else "0"
    return "error" if rank in ("", "0") else f"error (process {rank})"


def print_error(message) -> None:
    print(f"{error_prefix()}: {shown(message)}", file=sys.stderr, flush=True)


def note(message) -> None:
    """Something the user should know that is not an error (what opening a project repaired)."""
    print(f"note: {shown(message)}", file=sys.stderr)


def open_project(path):
    """Open the project folder `path` for a command (use it as `with open_project(p) as
    project:`), telling on stderr what opening repaired (an interrupted import:
    engine.project.recovery). A folder that is not a project raises ProjectError, which
    `cli.main.run` prints as one line."""
    from engine.project.store import Project

    project = Project.open(path)
    for line in project.notices:
        note(line)
    return project
