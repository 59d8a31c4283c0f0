"""`topdown-cli self-test`: the engine's self-test (engine/selftest.py), one JSON line."""

from __future__ import annotations

import argparse

from engine.selftest import add_options, report, self_test


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "self-test",
        help="check that this install works (demo project, short training, prediction)",
        description="Check that this install works: make a demo project in a temp folder, "
        "train one short epoch, predict an image; print one JSON line.",
    )
    add_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return report(self_test(args))
