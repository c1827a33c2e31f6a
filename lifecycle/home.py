"""Where a Hermes home lives and what is inside it: the same layout as hermes-agent's.

Order of precedence: ``--home`` > ``HERMES_HOME`` > hermes-agent's default (``~/.hermes``;
``%LOCALAPPDATA%\\hermes`` on Windows).  A profile is a home of its own,
``<root>/profiles/<name>``, and the profile ``default`` is the root itself; a home given as
``<root>/profiles/<name>`` (as hermes-agent sets ``HERMES_HOME`` for a profile) is that profile.
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
    """The home folder: explicit argument, else ``HERMES_HOME``, else hermes-agent's default.

    An explicit but empty ``--home`` (a script's unset variable, ``--home "$H"``) is refused
    rather than read as "no --home", which would act on the user's real home.
    """
    if explicit is not None:
        if not str(explicit).strip():
            raise UsageError("--home is empty: give the folder, or leave --home out to use "
                             "$HERMES_HOME, else ~/.hermes")
        return Path(explicit).expanduser().absolute()
    env = os.environ.get("HERMES_HOME", "").strip()  # stripped, as hermes-agent reads it
    if env:
        return Path(env).expanduser().absolute()
    from hermes_lifecycle.platforms import current_platform

    return current_platform().default_home(os.environ).absolute()


def split_profile_home(home: Path, profile: str | None = None) -> tuple[Path, str]:
    """(root, profile) of a home folder: ``<root>/profiles/<name>`` is profile ``<name>`` of
    ``<root>`` (hermes-agent's ``get_default_hermes_root``), any other folder is a root.

    An explicit ``profile`` wins and is placed under that root, as ``hermes -p NAME`` does.
    """
    if home.parent.name == "profiles" and PROFILE_PATTERN.fullmatch(home.name):
        root, named = home.parent.parent, home.name
    else:
        root, named = home, DEFAULT_PROFILE
    return root, validate_profile(named if profile is None else profile)


@dataclass(frozen=True)
class Home:
    """A resolved home and profile: every path the engine uses for them."""

    root: Path
    profile: str = DEFAULT_PROFILE

    def __post_init__(self) -> None:
        validate_profile(self.profile)

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None, profile: str | None = None) -> "Home":
        """``profile`` None: the one the home folder names (``.../profiles/NAME``), else ``default``."""
        if profile is not None:
            validate_profile(profile)
        return cls(*split_profile_home(resolve_home(home), profile))

    @property
    def dir(self) -> Path:
        """This profile's own home, as hermes-agent lays it out: the root for ``default``."""
        return self.root if self.profile == DEFAULT_PROFILE else self.root / "profiles" / self.profile

    @property
    def state_db(self) -> Path:
        return self.dir / "state.db"

    @property
    def config_file(self) -> Path:
        return self.dir / "config.json"

    @property
    def logs_dir(self) -> Path:
        return self.dir / "logs"

    @property
    def locks_dir(self) -> Path:
        return self.dir / "locks"

    @property
    def stdio_log(self) -> Path:
        name = "gateway-stdio.log" if self.profile == DEFAULT_PROFILE else f"gateway-stdio.{self.profile}.log"
        return self.logs_dir / name

    @property
    def instance_lock(self) -> Path:
        return self.locks_dir / f"{self.profile}.lock"

    def ensure_private_dir(self, path: Path | None = None) -> Path:
        """Create ``path`` (default: this profile's home) owner-only; tighten an existing one we own.

        Tightening only takes group and other bits away: a home its owner made read-only
        stays read-only (commands that must write then say so), never silently writable.
        """
        target = path or self.dir
        role = "the Hermes home" if target == self.dir else "a folder of the Hermes home"
        existed = target.exists()
        if existed and not target.is_dir():
            raise HermesError(f"cannot use {target} as {role}: it is a file, not a folder; "
                              "pass --home DIR or set HERMES_HOME to a folder you own")
        if existed:  # one we did not create: another user's, or writable by others, is refused
            from hermes_lifecycle.store.trust import check_owned_and_private

            check_owned_and_private(target, role, target.stat())
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

    def profiles(self, *, with_self: bool = True) -> list["Home"]:
        """Every profile of this home's root, by name: the one place that knows how profiles are
        laid out (``status --all``, ``stop --all`` and shell completion ask here).

        As in hermes-agent a profile is a home: ``default`` is the root (listed when it holds a
        ``state.db``), any other is ``<root>/profiles/NAME`` holding a ``state.db``; the profile
        this Home names is listed too unless ``with_self`` is false (completion offers only what
        exists).  A root ``state.db`` from before profiles were homes may still hold other
        profiles' streams: their names are listed too, so that a profile is never silently
        forgotten (such a profile's home is ``<root>/profiles/NAME`` now).
        Nothing is created, migrated or locked: the databases are only peeked at, read-only.
        """
        from hermes_lifecycle.store.peek import stream_names

        names = {self.profile} if with_self else set()
        root_db = self.root / "state.db"
        if root_db.is_file():
            names.add(DEFAULT_PROFILE)
            names.update(stream_names(root_db))
        folder = self.root / "profiles"
        if folder.is_dir():
            names.update(p.name for p in folder.iterdir() if (p / "state.db").is_file())
        return [Home(self.root, name) for name in sorted(names) if PROFILE_PATTERN.fullmatch(name)]
