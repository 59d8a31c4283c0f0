"""Topdown start-up: `python main.py` opens the app; `python main.py COMMAND ...` runs the
command line (new, info, train, predict, export, check) without loading Qt."""

from __future__ import annotations

import multiprocessing
import sys

CLI_COMMANDS = {"new", "info", "train", "predict", "demo", "export", "check"}


def cli_main(argv: list[str] | None = None) -> int:
    from engine.cli.main import run

    return run(sys.argv[1:] if argv is None else argv)


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    argv = sys.argv[1:] if argv is None else argv
    if argv and (argv[0] in CLI_COMMANDS or argv[0] in ("-h", "--help", "--version")):
        return cli_main(argv)
    from gui.app import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
