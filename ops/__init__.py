"""The operator CLI: `python -m ops [--stack NAME | --sandbox] COMMAND ...` (see ops/README.md)."""
