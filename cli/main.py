"""Command line: the same engine as the GUI, no Qt.

Sub-commands live in their own modules; each exposes ``register(subparsers)`` which adds its
parser and sets ``func`` (``func(args) -> int``).
"""

from __future__ import annotations

import argparse
import os
import sys

from cli import check as check_cmds
from cli import export as export_cmds
from cli import predict as predict_cmds
from cli import project as project_cmds
from cli import selftest as selftest_cmds
from cli import train as train_cmds
from engine.errors import EngineError, shown


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="topdown", description="Topdown: label images, fine-tune a network, predict."
    )
    parser.add_argument("--version", action="version", version="topdown 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (project_cmds, train_cmds, predict_cmds, export_cmds, check_cmds, selftest_cmds):
        module.register(sub)
    return parser


def run(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except EngineError as e:  # every command: the engine's message, one line, no traceback
        print(f"error: {shown(e)}", file=sys.stderr)
        return 1
    except OSError as e:  # the disk or a file refused (not a pipe): what it said, and where
        if isinstance(e, BrokenPipeError):
            return _closed_pipe()
        print(f"error: {shown(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


def _closed_pipe() -> int:
    """The reader of our output went away (`topdown-cli info P | head`): stop quietly, as
    Unix tools do, with 141 (128 + SIGPIPE) and no traceback. Output still buffered for the
    closed pipe goes to /dev/null so that Python's flush at exit does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 141
