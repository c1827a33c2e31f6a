"""The click commands of ``hermes``; see :mod:`cli.main` for the list."""
