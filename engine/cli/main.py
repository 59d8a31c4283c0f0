"""Command line: the same engine as the GUI, no Qt.

Sub-commands live in their own modules; each exposes ``register(subparsers)`` which adds its
parser and sets ``func`` (``func(args) -> int``).
"""

from __future__ import annotations

import argparse
import sys

SUBCOMMAND_MODULES = (
    "engine.cli.project",
    "engine.cli.train",
    "engine.cli.predict",
    "engine.cli.export",
    "engine.cli.check",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="topdown", description="Topdown: label images, fine-tune a network, predict."
    )
    parser.add_argument("--version", action="version", version="topdown 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        mod.register(sub)
    return parser


def run(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
