"""The click commands of ``hermes``; see :mod:`hermes_lifecycle.cli.main` for the list."""
