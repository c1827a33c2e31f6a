"""Where a Hermes home lives and what is inside it.

Order of precedence: ``--home`` > ``HERMES_HOME`` > the platform's user data dir.
Profile names are checked before any path is built from them.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from hermes_lifecycle.errors import HermesError, InvalidProfileName, UsageError

PROFILE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
DEFAULT_PROFILE = "default"


def validate_profile(name: str) -> str:
    """Return ``name`` if it is a legal profile name, else raise :class:`InvalidProfileName`."""
    if not isinstance(name, str) or PROFILE_PATTERN.fullmatch(name) is None:
        raise InvalidProfileName(name)
    return name


def resolve_home(explicit: str | os.PathLike | None = None) -> Path:
    """The home folder: explicit argument, else ``HERMES_HOME``, else the user data dir.

    An explicit but empty ``--home`` (a script's unset variable, ``--home "$H"``) is refused
    rather than read as "no --home", which would act on the user's real home.
    """
    if explicit is not None:
        if not str(explicit).strip():
            raise UsageError("--home is empty: give the folder, or leave --home out to use "
                             "$HERMES_HOME, else the user data dir")
        return Path(explicit).expanduser().absolute()
    env = os.environ.get("HERMES_HOME")
    if env:
        return Path(env).expanduser().absolute()
    from platformdirs import user_data_dir

    return Path(user_data_dir("hermes", appauthor=False))


@dataclass(frozen=True)
class Home:
    """A resolved home and profile: every path the engine uses for them."""

    root: Path
    profile: str = DEFAULT_PROFILE

    def __post_init__(self) -> None:
        validate_profile(self.profile)

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None, profile: str = DEFAULT_PROFILE) -> "Home":
        validate_profile(profile)
        return cls(resolve_home(home), profile)

    @property
    def state_db(self) -> Path:
        return self.root / "state.db"

    @property
    def config_file(self) -> Path:
        return self.root / "config.json"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def locks_dir(self) -> Path:
        return self.root / "locks"

    @property
    def stdio_log(self) -> Path:
        name = "gateway-stdio.log" if self.profile == DEFAULT_PROFILE else f"gateway-stdio.{self.profile}.log"
        return self.logs_dir / name

    @property
    def instance_lock(self) -> Path:
        return self.locks_dir / f"{self.profile}.lock"

    def ensure_private_dir(self, path: Path | None = None) -> Path:
        """Create ``path`` (default: the root) owner-only; tighten an existing one we own.

        Tightening only takes group and other bits away: a home its owner made read-only
        stays read-only (commands that must write then say so), never silently writable.
        """
        target = path or self.root
        role = "the Hermes home" if target == self.root else "a folder of the Hermes home"
        existed = target.exists()
        if existed and not target.is_dir():
            raise HermesError(f"cannot use {target} as {role}: it is a file, not a folder; "
                              "pass --home DIR or set HERMES_HOME to a folder you own")
        try:
            target.mkdir(parents=True, exist_ok=True, mode=0o700)
            mode = stat.S_IMODE(target.stat().st_mode)
            if not existed:
                os.chmod(target, 0o700)  # mkdir's mode is filtered by the umask
            elif mode & 0o077:
                os.chmod(target, mode & 0o700)
        except OSError as exc:
            raise HermesError(f"cannot use {target} as {role}: {exc.strerror or exc}; "
                              "pass --home DIR or set HERMES_HOME to a folder you own") from None
        return target

    def profiles(self) -> list["Home"]:
        """Every profile of this home that has recorded an event, by name: the one place that
        knows how profiles are laid out in a home (``status --all`` and ``stop --all`` ask here)."""
        if not self.state_db.exists():
            return []
        from hermes_lifecycle.store import open_store

        conn = open_store(self.state_db)
        try:
            names = [row[0] for row in conn.execute("SELECT stream FROM streams ORDER BY stream")]
        finally:
            conn.close()
        return [Home(self.root, name) for name in names if PROFILE_PATTERN.fullmatch(name)]
