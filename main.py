"""Topdown start-up: `python main.py` opens the app; `python main.py COMMAND ...` runs the
command line (cli/: the commands of cli.COMMANDS) without loading Qt."""

from __future__ import annotations

import multiprocessing
import sys


def cli_main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # the frozen topdown-cli enters here, not through main()
    from cli.main import run

    return run(sys.argv[1:] if argv is None else argv)


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    argv = sys.argv[1:] if argv is None else argv
    from cli import COMMANDS  # the command line's own table of sub-commands

    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help", "--version")):
        return cli_main(argv)
    if argv and argv[0] == "--self-test":  # the GUI's smoke test: engine steps + the window
        from gui.selftest import run_self_test

        return run_self_test(argv[1:])
    from gui.display_check import display_problem

    if problem := display_problem():  # one line instead of a Qt core dump
        print(problem, file=sys.stderr)
        return 1
    from gui.app import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
