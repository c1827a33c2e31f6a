"""Files that are not what they seem: refused in one line, as ssh's StrictModes does.

The home holds the event log, the chat text of every session and the locks that decide
which process is the gateway.  So the engine refuses to use a home or a ``state.db``
that another user owns or that group or others may write (anyone who can write it can
forge the log or stop the gateway), and never writes through a symbolic link (a
``state.db`` linked to another home's would record this home's runs there).  It says
what to run to fix it; it does not chmod or chown what it did not create.

These checks are plain file checks (links, owners, modes), so they live in the store, which
applies them to ``state.db`` and its files when it connects; the lifecycle applies the same
ones to the home folder, its output log and its instance lock.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from hermes_lifecycle.store.errors import UntrustedPath
from hermes_lifecycle.store.filelock import NOFOLLOW

__all__ = ["NOFOLLOW", "check_database_files", "check_owned_and_private", "refuse_link"]


def _user(uid: int) -> str:
    if sys.platform == "win32":  # no uids there (only called where os.geteuid exists)
        return f"uid {uid}"
    import pwd

    try:
        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:
        return f"uid {uid}"


def check_owned_and_private(path: Path, what: str, info: os.stat_result) -> None:
    """Refuse ``path`` (already ``lstat``-ed as ``info``) owned by another user or writable by
    group or others.  Where the OS has no uids (Windows) only the link check applies."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is not None and info.st_uid != geteuid():
        me = geteuid()
        raise UntrustedPath(f"{path} ({what}) is owned by {_user(info.st_uid)}, not by the user running "
                            f"hermes ({_user(me)}); nothing was changed: run hermes as its owner, or "
                            f"`chown -R {me} {path}` if it is yours")
    if geteuid is not None and stat.S_IMODE(info.st_mode) & 0o022:
        raise UntrustedPath(f"{path} ({what}) is writable by group or others (mode "
                            f"{stat.S_IMODE(info.st_mode):04o}); nothing was changed: run `chmod go-w {path}`")


def refuse_link(path: Path, what: str) -> os.stat_result | None:
    """``lstat`` of ``path`` (None if it does not exist); a symbolic link is refused."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise UntrustedPath(f"{path} ({what}) is a symbolic link; hermes does not write through links: "
                            "remove it (move the real file into place if it was meant to be used)")
    return info


def check_database_files(db_path: Path) -> None:
    """``state.db`` and SQLite's files beside it: no links; the database ours and not writable by others."""
    info = refuse_link(db_path, "the state database")
    if info is not None:
        check_owned_and_private(db_path, "the state database", info)
    for suffix in ("-wal", "-shm", "-journal"):
        refuse_link(db_path.with_name(db_path.name + suffix), "a file SQLite keeps beside the state database")
