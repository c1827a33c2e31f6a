"""The gateway runtime: ``hermes-lifecycle run`` and the embeddable app interface.

One concept per module: :mod:`app` (the interface), :mod:`reference` (the reference
gateway), :mod:`sessions` (conversations in ``state.db``), :mod:`boot`,
:mod:`watcher`, :mod:`shutdown`, and :mod:`gateway` (the sequence).
"""
