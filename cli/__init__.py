"""The command line (`topdown-cli`, `python main.py COMMAND`), an interface beside gui/: it calls
the engine and never holds logic of its own that the GUI would need.

`COMMANDS` is the one table of sub-commands, by the module that registers them; main.py reads it
to tell a command from a GUI start, and `cli.main.build_parser` imports those modules (each has
`register(subparsers)`, which adds its parsers and sets `func(args) -> int`). What every command
shares (opening a project, the error style) is cli/common.py.
"""

COMMANDS: dict[str, str] = {
    "new": "cli.project",
    "import": "cli.project",
    "info": "cli.project",
    "restore": "cli.project",
    "demo": "cli.project",
    "train": "cli.train",
    "use-run": "cli.train",
    "lr-find": "cli.train",
    "predict": "cli.predict",
    "export": "cli.export",
    "check": "cli.check",
    "self-test": "cli.selftest",
}
