"""A stand-in ``systemctl --user`` and ``loginctl`` on PATH, for the real CLI in a subprocess.

This machine has no systemd user manager to talk to (and tests must never touch the real
one), so these scripts do what the manager would for our unit: ``start`` runs the unit's
ExecStart detached (a real gateway) in its WorkingDirectory (else the account's home, as
systemd does), ``stop`` sends SIGTERM and waits, ``is-active`` reports whether that
process lives.  Every call is logged, one JSON argv per line.  ``FAKE_SYSTEMCTL_FAIL`` (verbs,
comma-separated) makes those verbs fail as a refusing manager would.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

SYSTEMCTL = r'''#!{python}
import json, os, shlex, signal, subprocess, sys, time
state = os.environ["FAKE_SYSTEMD_DIR"]
args = sys.argv[1:]
with open(os.path.join(state, "calls.log"), "a") as log:
    log.write(json.dumps(["systemctl", *args]) + "\n")
if args[0] == "--version":
    print("systemd 252 (252.38-1~deb12u1)")
    sys.exit(0)
verb = args[1]
unit = args[2] if len(args) > 2 else ""
if verb in os.environ.get("FAKE_SYSTEMCTL_FAIL", "").split(","):  # a manager that refuses this verb
    print(f"Failed to {{verb}} {{unit}}: Access denied", file=sys.stderr)
    sys.exit(1)
pidfile = os.path.join(state, unit + ".pid")
enabled = os.path.join(state, unit + ".enabled")

def alive():
    try:
        pid = int(open(pidfile).read())
        with open(f"/proc/{{pid}}/stat") as stat:
            return None if stat.read().rsplit(")", 1)[1].split()[0] == "Z" else pid
    except (OSError, ValueError, IndexError):
        return None

if verb == "start" and not alive():
    path = os.path.join(os.environ["XDG_CONFIG_HOME"], "systemd", "user", unit)
    lines = open(path).read().splitlines()
    line = next(l for l in lines if l.startswith("ExecStart="))
    cwd = next((l[len("WorkingDirectory="):].replace("%%", "%") for l in lines
                if l.startswith("WorkingDirectory=")), os.environ["HOME"])  # systemd's default
    with open(os.path.join(state, "gateway.log"), "ab") as out:
        child = subprocess.Popen(shlex.split(line[len("ExecStart="):]), stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=out, start_new_session=True, cwd=cwd)
    open(pidfile, "w").write(str(child.pid))
elif verb == "stop":
    pid = alive()
    if pid:
        os.kill(pid, signal.SIGTERM)
        until = time.monotonic() + 60
        while alive() and time.monotonic() < until:
            time.sleep(0.05)
elif verb == "is-active":
    print("active" if alive() else "inactive")
    sys.exit(0 if alive() else 3)
elif verb == "is-enabled":
    print("enabled" if os.path.exists(enabled) else "disabled")
    sys.exit(0 if os.path.exists(enabled) else 1)
elif verb == "enable":
    open(enabled, "w").close()
elif verb == "disable" and os.path.exists(enabled):
    os.remove(enabled)
'''

LOGINCTL = r'''#!{python}
import json, os, sys
with open(os.path.join(os.environ["FAKE_SYSTEMD_DIR"], "calls.log"), "a") as log:
    log.write(json.dumps(["loginctl", *sys.argv[1:]]) + "\n")
print(os.environ.get("FAKE_LINGER", "yes"))
'''


def install_fake_systemd(root: Path) -> dict[str, str]:
    """Create the scripts and a temporary account under ``root``; the environment to run with."""
    bin_dir, state, account = root / "bin", root / "systemd-state", root / "account"
    for folder in (bin_dir, state, account):
        folder.mkdir(parents=True)
    for name, text in (("systemctl", SYSTEMCTL), ("loginctl", LOGINCTL)):
        script = bin_dir / name
        script.write_text(text.format(python=sys.executable))
        script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "FAKE_SYSTEMD_DIR": str(state),
            "HOME": str(account), "XDG_CONFIG_HOME": str(account / ".config"), "USER": "alice"}


def calls(env: dict[str, str]) -> list[list[str]]:
    path = Path(env["FAKE_SYSTEMD_DIR"]) / "calls.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def gateway_pid(env: dict[str, str], unit: str = "hermes-gateway-default.service") -> int | None:
    try:
        return int((Path(env["FAKE_SYSTEMD_DIR"]) / f"{unit}.pid").read_text())
    except (OSError, ValueError):
        return None
