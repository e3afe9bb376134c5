"""`python -m botkit` runs the command line."""

from botkit.cli import main

main()
