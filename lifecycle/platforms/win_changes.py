"""Windows: a change notification on the database's folder (kernel32 by ctypes).

``FindFirstChangeNotificationW`` signals a handle when a file in the folder is
written (last-write time or size); ``WaitForMultipleObjects`` sleeps on it and on an
event of our own that :meth:`wake` sets.  NTFS may update an open file's size and
last-write time lazily, so a commit can go unannounced: Windows keeps a short
backstop (``WindowsPlatform.change_backstop``: today's 20 ms poll) because the log is its
only stop channel.  ``kernel32`` is a parameter so tests on Linux drive this path
with a recording stand-in.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from hermes_lifecycle.platforms.changes import ChangeNotifier

FILE_NOTIFY_CHANGE_FILE_NAME = 0x001
FILE_NOTIFY_CHANGE_SIZE = 0x008
FILE_NOTIFY_CHANGE_LAST_WRITE = 0x010
NOTIFY_FILTER = FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_SIZE | FILE_NOTIFY_CHANGE_LAST_WRITE
WAIT_OBJECT_0 = 0x000
WAIT_TIMEOUT = 0x102
INVALID_HANDLE_VALUE = -1


def _kernel32() -> Any:
    if sys.platform != "win32":  # tests hand the notifier a recording stand-in instead
        raise OSError("kernel32 exists only on Windows")
    import ctypes
    from ctypes import wintypes

    k = ctypes.WinDLL("kernel32", use_last_error=True)
    k.FindFirstChangeNotificationW.argtypes = [wintypes.LPCWSTR, wintypes.BOOL, wintypes.DWORD]
    k.FindFirstChangeNotificationW.restype = wintypes.HANDLE
    k.FindNextChangeNotification.argtypes = [wintypes.HANDLE]
    k.FindCloseChangeNotification.argtypes = [wintypes.HANDLE]
    k.CreateEventW.argtypes = [wintypes.LPVOID, wintypes.BOOL, wintypes.BOOL, wintypes.LPCWSTR]
    k.CreateEventW.restype = wintypes.HANDLE
    k.SetEvent.argtypes = [wintypes.HANDLE]
    k.CloseHandle.argtypes = [wintypes.HANDLE]
    k.WaitForMultipleObjects.argtypes = [wintypes.DWORD, ctypes.POINTER(wintypes.HANDLE), wintypes.BOOL,
                                         wintypes.DWORD]
    k.WaitForMultipleObjects.restype = wintypes.DWORD
    return k


def _handles(*values: Any) -> Any:
    from ctypes import wintypes

    return (wintypes.HANDLE * len(values))(*values)


class WindowsChangeNotifier(ChangeNotifier):
    notifies = True

    def __init__(self, db_path: Path, *, kernel32: Any | None = None, handles=_handles) -> None:
        super().__init__()
        self._k = kernel32 if kernel32 is not None else _kernel32()
        self._handles = handles
        change = self._k.FindFirstChangeNotificationW(str(db_path.parent), False, NOTIFY_FILTER)
        if change in (None, 0, INVALID_HANDLE_VALUE):
            raise OSError(f"FindFirstChangeNotificationW {db_path.parent} failed")
        self._change = change
        self._wake_event = self._k.CreateEventW(None, False, False, None)  # auto-reset, unnamed
        self._lock = threading.Lock()

    def wait(self, timeout: float) -> bool:
        if self._change is None:
            return False
        result = self._k.WaitForMultipleObjects(2, self._handles(self._change, self._wake_event), False,
                                               int(timeout * 1000))
        if result == WAIT_OBJECT_0:
            self._k.FindNextChangeNotification(self._change)  # re-arm for the next change
            return True
        return False  # the wake event, a timeout or a failure: the caller looks at the log anyway

    def wake(self) -> None:
        with self._lock:  # never set a handle close() already gave back
            if self._change is not None:
                self._k.SetEvent(self._wake_event)

    def close(self) -> None:
        with self._lock:
            if self._change is not None:
                self._k.FindCloseChangeNotification(self._change)
                self._k.CloseHandle(self._wake_event)
                self._change = None
