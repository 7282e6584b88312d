"""``python -m simulator`` is the same as the ``mercury-sim`` command."""

from simulator.cli.app import main

main()
