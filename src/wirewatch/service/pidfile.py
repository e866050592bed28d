"""The pid file of `wirewatch run`: DATABASE.pid, next to the SQLite file it uses.

`wirewatch run` holds an exclusive `flock` on it for as long as it runs, so that

- a second `run` on the same database refuses to start (two services sharing one
  outbox would send every alert twice), and
- `wirewatch reload` can tell a live service from a stale file: the lock goes away with
  the process, however it ends (SIGKILL included), while the file may stay behind.

The file holds two lines: the process id and the config file the service reads on SIGHUP.
It is created readable by its owner only (0600) and never through a symbolic link: a link
planted at its path (to a file of the service user's elsewhere) is refused, not followed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from wirewatch import defaults


class AlreadyRunning(RuntimeError):
    """Another process holds the pid file's lock."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"{who} already runs wirewatch on this database (lock {path})")


class UnsafePidFile(OSError):
    """The pid file's path is a symbolic link or not a regular file: refused, not followed."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        super().__init__(
            f"refusing to use the pid file {path}: it is {what}; remove it (wirewatch run "
            "creates the pid file itself)"
        )


@dataclass(frozen=True)
class RunningService:
    pid: int
    config: str  # the config file it was started with (and re-reads on SIGHUP)


def pid_path(database: str) -> Path | None:
    """DATABASE.pid; None for an in-memory database."""
    if database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database + defaults.PID_FILE_SUFFIX)


def _open(path: Path, flags: int) -> IO[str]:
    """`path` opened without following a symbolic link (created 0600 with O_CREAT), as
    text; UnsafePidFile when it is a link or not a regular file."""
    try:
        fd = os.open(
            path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, defaults.PRIVATE_FILE_MODE
        )
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePidFile(path, "a symbolic link") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePidFile(path, "not a regular file")
    return open(fd, "r+" if flags & os.O_RDWR else "r", encoding="utf-8")


def check_path(path: Path) -> None:
    """UnsafePidFile now if `path` is a symbolic link or not a regular file (for `run
    --wait`, before it waits)."""
    with contextlib.suppress(FileNotFoundError):
        _open(path, os.O_RDONLY).close()


def _read(handle: IO[str]) -> RunningService | None:
    handle.seek(0)
    lines = handle.read().splitlines()
    if not lines or not lines[0].strip().isdigit():
        return None
    return RunningService(int(lines[0]), lines[1] if len(lines) > 1 else "")


class PidFile:
    """Held by `wirewatch run`: `acquire()` at start, `release()` at a clean stop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self, config_file: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = _open(self.path, os.O_RDWR | os.O_CREAT)  # held while running
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            running = _read(handle)
            handle.close()
            raise AlreadyRunning(self.path, running.pid if running else None) from None
        with contextlib.suppress(OSError):  # a file left by an older version may be 0644
            os.fchmod(handle.fileno(), defaults.PRIVATE_FILE_MODE)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n{config_file}\n")
        handle.flush()
        self._handle = handle

    def try_acquire(self, config_file: str) -> bool:
        """`acquire`, but False instead of AlreadyRunning."""
        try:
            self.acquire(config_file)
        except AlreadyRunning:
            return False
        return True

    def holder(self) -> RunningService | None:
        """Who holds the lock now (None: nobody, or this object)."""
        return None if self._handle else running_service(self.path)

    def release(self) -> None:
        if self._handle is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # before unlocking: a newcomer never locks a file being removed
        self._handle.close()
        self._handle = None


def running_service(path: Path) -> RunningService | None:
    """The live service holding `path`'s lock, or None (no file, or a stale one);
    UnsafePidFile when `path` is a symbolic link or not a regular file."""
    try:
        handle = _open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # locked: its owner is alive
            return _read(handle)
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
