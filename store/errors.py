"""The recorder's own exception types.

The store is a generic event recorder and knows nothing of the lifecycle: its errors
are its own.  :mod:`hermes_lifecycle.errors` re-exports them, and the CLI prints them as
it prints the lifecycle's errors (``hermes: <message>``, exit ``exit_code``).
"""

from __future__ import annotations


class StoreError(Exception):
    """The event store cannot be used as it is, or refused a write; nothing was changed."""

    exit_code = 1


class CorruptStore(StoreError):
    def __init__(self, path: object, detail: str) -> None:
        super().__init__(
            f"{path} is not a usable Hermes state database ({detail}); "
            "it was left untouched: move it aside or restore a backup"
        )


class SchemaTooNew(StoreError):
    def __init__(self, path: object, found: int, known: int) -> None:
        super().__init__(
            f"{path} has schema version {found}, newer than this hermes knows ({known}); "
            "it was left untouched: upgrade hermes-lifecycle to read it"
        )


class VersionConflict(StoreError):
    """Another writer appended to the stream between our read and our write."""


class RunChanged(StoreError):
    """The stream's current run is not the one the writer meant; nothing was written."""

    def __init__(self, stream: str, expected: str | None, current: str | None, state: str) -> None:
        self.expected, self.current, self.state = expected, current, state
        super().__init__(f"stream {stream!r} is on run {current!r} ({state}), not {expected!r}; nothing was written")


class UntrustedPath(StoreError):
    """A file or folder of the home that is not what it seems: a symbolic link, owned by
    another user, or writable by group or others.  Refused, never "fixed" behind the owner's back."""
