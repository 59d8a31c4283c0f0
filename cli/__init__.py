"""The command line (`topdown-cli`, `python main.py COMMAND`): `main` builds the parser from one
module per group of sub-commands (`project`: new, info, demo; `train`: train, use-run;
`predict`)."""
