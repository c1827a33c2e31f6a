"""The gateway's configuration file, ``HOME/config.json``, read and checked in one place.

A missing file means the defaults.  Anything else that is not exactly right (bad JSON,
an unknown key, a wrong type, a value out of range) is a fatal configuration error,
exit code 78: a service manager must not revive a gateway that cannot work as
configured, and a typo must never be silently ignored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from hermes_lifecycle.errors import ConfigError
from hermes_lifecycle.home import Home

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 0  # 0: the OS picks a free port; `ready` and `status --json` say which
DEFAULT_DRAIN_TIMEOUT = 30.0
MAX_DRAIN_TIMEOUT = 24 * 3600.0
#: The file is one flat object; anything nested deeper is refused before the parser recurses.
MAX_DEPTH = 32
#: A number longer than this is kept as its text (Python refuses to convert > 4300 digits).
MAX_DIGITS = 100


class LongNumber(str):
    """A JSON number too long to be any setting, kept as text so its key can be named."""

    def __repr__(self) -> str:
        return f"a {len(self)}-character number"


def _parse_int(text: str) -> int | LongNumber:
    return LongNumber(text) if len(text) > MAX_DIGITS else int(text)


def _parse_float(text: str) -> float | LongNumber:
    return LongNumber(text) if len(text) > MAX_DIGITS else float(text)


def _too_deep(text: str) -> tuple[str | None, int, int] | None:
    """Where ``text`` nests deeper than :data:`MAX_DEPTH`: (top-level key, line, column), else None.
    A scan of brackets outside strings, so that json's recursive parser never sees such a file."""
    depth, in_string, escaped, key, last_string, start = 0, False, False, None, None, 0
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if depth == 1:
                    last_string = text[start + 1:index]
        elif char == '"':
            in_string, start = True, index
        elif char == ":" and depth == 1:
            key = last_string
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, index) + 1
                return key if depth > 1 and key is not None else None, line, index - text.rfind("\n", 0, index)
        elif char in "]}":
            depth -= 1
            if depth == 1:
                key = None
    return None


@dataclass(frozen=True)
class GatewayConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    restart_drain_timeout: float = DEFAULT_DRAIN_TIMEOUT


def _check_port(value: Any) -> int:
    if isinstance(value, (bool, LongNumber)) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ValueError("must be an integer from 0 to 65535")
    return value


def _check_host(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string such as \"127.0.0.1\"")
    return value


def check_drain_timeout(value: Any) -> float:
    """A drain timeout in seconds: a finite number above 0 and at most a day."""
    if isinstance(value, (bool, LongNumber)) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 < value <= MAX_DRAIN_TIMEOUT:
        raise ValueError(f"must be a number of seconds above 0 and at most {MAX_DRAIN_TIMEOUT:g}")
    return float(value)


_CHECKS = {"host": _check_host, "port": _check_port, "restart_drain_timeout": check_drain_timeout}
KNOWN_KEYS: tuple[str, ...] = tuple(_CHECKS)


def load_config(home: Home) -> GatewayConfig:
    """The configuration of ``home`` (defaults when the file is absent); raises :class:`ConfigError`."""
    path = home.config_file
    try:
        text = path.read_text("utf-8-sig")  # a BOM (Notepad) is not an error
    except FileNotFoundError:
        return GatewayConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    deep = _too_deep(text)
    if deep is not None:
        key, line, column = deep
        where = f"{key} is" if key is not None else "it is"
        raise ConfigError(f"{path}: {where} nested deeper than {MAX_DEPTH} levels (line {line}, column {column}); "
                          "settings are plain values such as {\"port\": 8080}")
    try:
        document = json.loads(text, parse_int=_parse_int, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{path} is not usable JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path} must hold one JSON object, e.g. {{\"restart_drain_timeout\": 30}}")
    values: dict[str, Any] = {}
    for key, value in document.items():
        check = _CHECKS.get(key)
        if check is None:
            raise ConfigError(f"{path}: unknown key {key!r} (known keys: {', '.join(KNOWN_KEYS)})")
        try:
            values[key] = check(value)
        except ValueError as exc:
            raise ConfigError(f"{path}: {key} {exc} (found {value!r})") from None
    return GatewayConfig(**values)


def drain_timeout(home: Home, override: float | None = None) -> float:
    """How long a drain may last: ``override`` (a command-line option), else the config's
    ``restart_drain_timeout``, else 30 s.  The controller waits this long before escalating."""
    if override is not None:
        try:
            return check_drain_timeout(override)
        except ValueError as exc:
            raise ConfigError(f"drain timeout {exc} (found {override!r})") from None
    return load_config(home).restart_drain_timeout
