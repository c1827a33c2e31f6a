"""The package boundaries, read from the source: the store is a recorder that knows nothing
of the lifecycle, and only the store writes SQL on its tables.

Parsed, not imported: a boundary crossed in a branch that never runs here (a Windows path,
a lazy import inside a function) fails as surely as one at the top of a module.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STORE_MAY_IMPORT = ("hermes_lifecycle.store", "hermes_lifecycle.migrations")
#: SQL naming one of the store's tables (with or without a ``lifecycle_`` prefix).
STORE_SQL = re.compile(r"\b(FROM|INTO|UPDATE|JOIN|TABLE|table_info\()\s*(lifecycle_)?"
                       r"(events|streams|sessions|messages|prune_gate|schema_migrations)\b|sqlite_master")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in a file, ``from a import b`` giving ``a.b``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def string_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal, f-strings joined from their constant parts."""
    found = []
    tree = ast.parse(path.read_text("utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append((node.lineno, " ".join(v.value for v in node.values
                                                 if isinstance(v, ast.Constant) and isinstance(v.value, str))))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
    return found


def test_the_store_imports_nothing_from_the_lifecycle():
    crossings = []
    for path in sorted((ROOT / "store").glob("*.py")):
        for line, name in imported_modules(path):
            if name.startswith(".") or (name.startswith("hermes_lifecycle")
                                        and not name.startswith(STORE_MAY_IMPORT)):
                crossings.append(f"store/{path.name}:{line}: {name}")
    assert crossings == []


def test_no_sql_on_the_store_tables_outside_the_store():
    found = []
    for folder in ("lifecycle", "cli"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, text in string_literals(path):
                if STORE_SQL.search(text):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {text[:80]}")
    assert found == []


def test_the_checks_see_what_they_look_for():
    """The two rules above would fail on the code this project had before the split."""
    assert STORE_SQL.search("SELECT count(*) FROM sessions WHERE stream = ?")
    assert STORE_SQL.search("DELETE FROM lifecycle_events WHERE stream = ? AND version < ?")
    assert STORE_SQL.search("SELECT 1 FROM sqlite_master WHERE type = 'table'")
    assert not STORE_SQL.search("the events of one run, from the sessions")


def _imports_of_folder(folder: str) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line}: {name}"
            for path in sorted((ROOT / folder).rglob("*.py")) for line, name in imported_modules(path)]


def test_services_do_not_import_the_controller_and_platforms_do_not_import_services():
    """The controller decides (through a service or directly); services run the managers; the
    platforms run processes.  Each depends only on the ones below it."""
    assert [i for i in _imports_of_folder("lifecycle/services") if "hermes_lifecycle.controller" in i] == []
    assert [i for i in _imports_of_folder("lifecycle/platforms")
            if "hermes_lifecycle.services" in i or "hermes_lifecycle.controller" in i] == []


def test_nothing_below_the_cli_imports_the_cli():
    """The gateway is run as ``python -m`` of the CLI module, named in one place
    (``lifecycle/command_line.py``), not by importing the CLI from the controller."""
    assert [i for i in _imports_of_folder("lifecycle") if "hermes_lifecycle.cli" in i] == []


def test_the_gateway_command_line_is_built_in_one_module():
    """Below the CLI (which declares the options), the entry modules and the group's options
    are written only in lifecycle/command_line.py: spawning, service definitions, discovery
    and restart all build and parse ``gateway --home DIR --profile NAME run`` through it."""
    found = []
    for path in sorted((ROOT / "lifecycle").rglob("*.py")):
        if path.name == "command_line.py":
            continue
        for line, text in string_literals(path):
            if text in ("hermes_lifecycle.cli.main", "hermes_lifecycle.controller.sidecar", "--home", "--profile"):
                found.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert found == []


def test_the_cli_imports_only_the_public_api():
    """``cli/`` uses ``from hermes_lifecycle import NAME`` (names in ``hermes_lifecycle.__all__``)
    and its own modules, never an internal module: the package's insides can move freely."""
    import hermes_lifecycle

    public = {f"hermes_lifecycle.{name}" for name in hermes_lifecycle.__all__}
    reaching_in = [f"cli/{path.name}:{line}: {name}" for path in sorted((ROOT / "cli").glob("*.py"))
                   for line, name in imported_modules(path)
                   if name.startswith("hermes_lifecycle") and not name.startswith("hermes_lifecycle.cli.")
                   and name not in public]
    assert reaching_in == []


def test_every_public_name_resolves():
    import hermes_lifecycle

    missing = []
    for name in hermes_lifecycle.__all__:
        try:
            getattr(hermes_lifecycle, name)
        except (AttributeError, ImportError) as exc:
            missing.append(f"{name}: {exc}")
    assert missing == []
