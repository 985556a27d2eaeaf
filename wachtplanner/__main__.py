"""``python -m wachtplanner``: the same as the ``wachtplanner`` command."""

from wachtplanner.cli import main

main()
