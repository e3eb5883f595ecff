"""``python -m gradegen`` runs the command line."""

from gradegen.cli import main

main()
