"""``python -m zfish`` runs the CLI."""

from zfish.cli import main

main()
