"""Entry script of the bundled `topdown-cli` program (the console one): the command line only."""

import sys

from main import cli_main

if __name__ == "__main__":
    sys.exit(cli_main())
