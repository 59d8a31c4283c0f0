"""`topdown-cli`: the parser built from the command table (cli.COMMANDS) and the one place where
what a command raises becomes an error line (the style: cli/common.py)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from cli import COMMANDS
from cli.common import UsageError, print_error
from engine.errors import EngineError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="topdown", description="Topdown: label images, fine-tune a network, predict."
    )
    parser.add_argument("--version", action="version", version="topdown 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in dict.fromkeys(COMMANDS.values()):  # each module once, in the table's order
        importlib.import_module(module).register(sub)
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
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _closed_pipe()
    except (UsageError, EngineError, OSError) as e:  # a message meant for the user, one line
        print_error(e)
        return 1
    except Exception as e:  # a failure nobody foresaw (a bug, a library's error): still one
        if os.environ.get("TOPDOWN_DEBUG"):  # line, the traceback on request
            raise
        print_error(f"{type(e).__name__}: {e} (TOPDOWN_DEBUG=1 shows where)")
        return 1


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
