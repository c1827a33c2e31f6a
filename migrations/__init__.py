"""Numbered schema files for ``state.db``, shipped as package data (see ``store.migrate``)."""
