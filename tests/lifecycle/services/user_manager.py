"""A real ``systemd --user`` manager for a throw-away user, on a machine whose PID 1 is not systemd.

For the real-manager test tier (root only).  What systemd needs before it runs a user instance:

1. ``/run/systemd/system`` exists (``sd_booted()``: systemd refuses a user instance on a system
   that does not look booted with it).  It also makes every other tool on the machine believe
   systemd is PID 1, so it is removed again at teardown when this module created it.
2. ``/run/user/UID``, owned by the user, mode 0700 (``$XDG_RUNTIME_DIR``).
3. The user's cgroup ``user.slice/user-UID.slice/user@UID.service`` under each mounted hierarchy
   systemd uses (cgroup2, and the v1 ``name=systemd`` one on a hybrid layout), owned by the
   user, with the starting process moved into it *as root* before privileges are dropped (the
   user may not move itself out of the root cgroup).

Clients (``systemctl --user``, ``systemd-analyze --user``) must run as the user with
``XDG_RUNTIME_DIR`` set: root pointing at the user's runtime directory is refused
("Failed to connect to bus: Operation not permitted").  :func:`as_user` builds such an argv.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SYSTEMD = "/lib/systemd/systemd"
BOOTED_MARKER = Path("/run/systemd/system")


def why_not_available() -> str | None:
    """Why this machine cannot host the tier (None: it can)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root, to create a throw-away user and its cgroup"
    for tool in (SYSTEMD, shutil.which("systemctl"), shutil.which("setpriv"), shutil.which("useradd")):
        if not tool or not os.path.exists(tool):
            return f"needs systemd, setpriv and useradd ({tool or 'a tool'} is missing)"
    if not _cgroup_roots():
        return "no cgroup2 or name=systemd hierarchy is mounted"
    if Path("/proc/1/comm").read_text().strip() == "systemd":
        return "PID 1 is systemd: use the machine's own user manager, not a throw-away one"
    return None


def as_user(username: str, argv: list[str]) -> list[str]:
    """``argv`` run as ``username`` (pass :attr:`UserManager.env` as the environment)."""
    return ["setpriv", f"--reuid={username}", f"--regid={username}", "--init-groups", "--", *argv]


def _cgroup_roots() -> list[str]:
    roots = []
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            _device, mount, kind, options = line.split()[:4]
            if kind == "cgroup2" or (kind == "cgroup" and "name=systemd" in options.split(",")):
                roots.append(mount)
    return roots


@dataclass
class UserManager:
    """A running ``systemd --user`` of a throw-away user; :meth:`stop` undoes everything."""

    username: str
    uid: int
    home: Path
    env: dict[str, str]
    process: subprocess.Popen
    cgroups: list[str]
    created_marker: bool

    def run(self, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
        """``argv`` as the user, output captured as text."""
        return subprocess.run(as_user(self.username, argv), env=self.env, capture_output=True, text=True,
                              timeout=timeout, cwd=self.home)

    def systemctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return self.run(["systemctl", "--user", *args], timeout=timeout)

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        answer = self.systemctl("show", unit, *(f"--property={p}" for p in properties)).stdout
        return dict(line.split("=", 1) for line in answer.splitlines() if "=" in line)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the manager (its units' ExecStop run), remove cgroups, runtime dir, the user,
        and ``/run/systemd/system`` when this module created it."""
        try:
            self.systemctl("exit", timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for cgroup in self.cgroups:
            _empty_and_remove(cgroup)
            for parent in (os.path.dirname(cgroup), os.path.dirname(os.path.dirname(cgroup))):
                try:
                    os.rmdir(parent)
                except OSError:
                    pass  # another user's slice, or user.slice still in use
        shutil.rmtree(f"/run/user/{self.uid}", ignore_errors=True)
        others = subprocess.run(["pgrep", "-f", f"^{SYSTEMD} --user"], capture_output=True).returncode == 0
        if self.created_marker and not others:
            try:
                BOOTED_MARKER.rmdir()
            except OSError:
                pass
        for _ in range(50):
            result = subprocess.run(["userdel", "-r", self.username], capture_output=True, text=True)
            if result.returncode in (0, 6, 12):  # 6: no such user; 12: no mail spool to remove
                return
            time.sleep(0.1)  # 8: processes of the user not reaped yet
        raise RuntimeError(f"userdel {self.username} failed: {result.stderr}")


def start_user_manager(username: str, *, timeout: float = 30.0) -> UserManager:
    """Create ``username`` and start its ``systemd --user``; wait until it says ``running``."""
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", username], check=True, capture_output=True)
    entry = pwd.getpwnam(username)
    uid, gid = entry.pw_uid, entry.pw_gid
    created_marker = not BOOTED_MARKER.is_dir()
    BOOTED_MARKER.mkdir(parents=True, exist_ok=True)
    runtime = Path(f"/run/user/{uid}")
    shutil.rmtree(runtime, ignore_errors=True)
    runtime.mkdir(parents=True)
    os.chown(runtime, uid, gid)
    runtime.chmod(0o700)
    cgroups = [os.path.join(root, f"user.slice/user-{uid}.slice/user@{uid}.service") for root in _cgroup_roots()]
    for cgroup in cgroups:
        os.makedirs(cgroup, exist_ok=True)
        for path in [cgroup, *(os.path.join(cgroup, name) for name in os.listdir(cgroup))]:
            os.chown(path, uid, gid)
    env = {"HOME": entry.pw_dir, "USER": username, "LOGNAME": username, "SHELL": "/bin/sh",
           "PATH": "/usr/local/bin:/usr/bin:/bin", "XDG_RUNTIME_DIR": str(runtime),
           "DBUS_SESSION_BUS_ADDRESS": f"unix:path={runtime}/bus"}
    # a root shell moves itself into the user's cgroups, then becomes the user's manager
    moves = "; ".join(f'echo $$ > "{cgroup}/cgroup.procs"' for cgroup in cgroups)
    argv = ["/bin/sh", "-c", f'set -e; {moves}; exec "$@"', "sh", *as_user(username, [SYSTEMD, "--user"])]
    process = subprocess.Popen(argv, env=env, cwd=entry.pw_dir, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    manager = UserManager(username, uid, Path(entry.pw_dir), env, process, cgroups, created_marker)
    until = time.monotonic() + timeout
    while time.monotonic() < until and process.poll() is None:
        answer = manager.systemctl("is-system-running").stdout.strip()
        if answer in ("running", "degraded"):
            return manager
        time.sleep(0.05)
    manager.stop()
    raise RuntimeError(f"systemd --user for {username} did not come up (exit {process.poll()})")


def _empty_and_remove(cgroup: str) -> None:
    """SIGKILL whatever is left in a cgroup subtree, then remove it bottom-up."""
    kill = os.path.join(cgroup, "cgroup.kill")
    if os.path.exists(kill):
        try:
            Path(kill).write_text("1")
        except OSError:
            pass
    for _ in range(100):
        pids = set()
        for folder, _dirs, _files in os.walk(cgroup):
            try:
                pids.update(int(p) for p in Path(folder, "cgroup.procs").read_text().split())
            except OSError:
                pass
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    for folder, _dirs, _files in sorted(os.walk(cgroup), key=lambda entry: -entry[0].count("/")):
        for _ in range(20):
            try:
                os.rmdir(folder)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
