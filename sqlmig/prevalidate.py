"""Check the up scripts of a run on the second core while the first connects.

``sqlmig up`` refuses to start when any pending script cannot run (it does not split, or it
holds its own BEGIN/COMMIT), so every pending file is split before the first migration is
sent: for 1,000 new migrations that is as long as loading psycopg. Both can happen at once:
a forked child splits and checks the scripts while this process imports psycopg, connects,
takes the deploy lock and reads history. It sends one verdict per version, newest first (the
pending migrations are usually the newest), and is stopped as soon as the run knows what it
needs. The child checks the very texts this process read and checksummed (it inherits them).

Used only where ``fork`` is safe and worth it: a POSIX system, two or more usable cores, one
thread in this process, and at least ``FORK_MIN`` migrations. Otherwise, and whenever the child
gives no verdict for a version (it failed, or was stopped early), the script is checked here,
in this process: the outcome is the same either way, only the time differs.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import signal
import struct
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Final, NamedTuple, NoReturn

from sqlmig.errors import MigrationFileError
from sqlmig.files import Migration
from sqlmig.script import Script

FORK_MIN: Final = 100  # fewer migrations are checked in this process in a few milliseconds
_HEADER: Final = struct.Struct("<I")


class Verdict(NamedTuple):
    """The child's finding for one up script: None, or the error ``check_runnable`` raised."""

    message: str | None
    hint: str | None


def check(script: Script) -> Verdict:
    """Split ``script`` and refuse what cannot run, as ``Executor.up`` would before running."""
    try:
        script.check_runnable()
    except MigrationFileError as exc:
        return Verdict(exc.message, exc.hint)
    return Verdict(None, None)


class Prevalidation:
    """Verdicts on up scripts, from a child process when one was started."""

    def __init__(self, pid: int | None, fd: int | None) -> None:
        self._pid = pid
        self._fd = fd
        self._buffer = b""
        self._verdicts: dict[int, Verdict] = {}

    def require(self, scripts: Sequence[tuple[int, Script]]) -> None:
        """Raise the error of the first script in ``scripts`` (version, script) that cannot run;
        the child's verdict where it has one, else checked here."""
        self._read_until({version for version, _ in scripts})
        for version, script in scripts:
            verdict = self._verdicts.get(version)
            if verdict is None:
                verdict = check(script)
            if verdict.message is not None:
                raise MigrationFileError(verdict.message, verdict.hint)

    def _read_until(self, wanted: set[int]) -> None:
        missing = wanted - self._verdicts.keys()
        while missing and self._fd is not None:
            try:
                select.select([self._fd], [], [], 1.0)
                chunk = os.read(self._fd, 65536)
            except InterruptedError:
                continue
            if not chunk:  # the child is done (or gone): the rest is checked here
                self.close()
                return
            self._buffer += chunk
            for version, verdict in self._records():
                self._verdicts[version] = verdict
                missing.discard(version)
        self.close()

    def _records(self) -> Iterator[tuple[int, Verdict]]:
        buf, pos = self._buffer, 0
        while len(buf) - pos >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buf, pos)
            end = pos + _HEADER.size + size
            if end > len(buf):
                break
            version, message, hint = marshal.loads(buf[pos + _HEADER.size : end])
            yield int(version), Verdict(message, hint)
            pos = end
        self._buffer = buf[pos:]

    def close(self) -> None:
        """Stop the child (if still working) and reap it; idempotent."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None


@contextlib.contextmanager
def prevalidating(migrations: Sequence[Migration]) -> Iterator[Prevalidation]:
    """Start checking ``migrations``' up scripts in a child when worth it; always stopped and
    reaped on leaving the block."""
    started = _fork(migrations) if _worth_forking(migrations) else None
    checks = Prevalidation(*started) if started else Prevalidation(None, None)
    try:
        yield checks
    finally:
        checks.close()


def _worth_forking(migrations: Sequence[Migration]) -> bool:
    if len(migrations) < FORK_MIN or not hasattr(os, "fork") or sys.platform == "win32":
        return False
    if threading.active_count() != 1:  # a lock held by another thread would stay held
        return False
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return (len(cores) if cores is not None else os.cpu_count() or 1) >= 2


def _fork(migrations: Sequence[Migration]) -> tuple[int, int] | None:
    # what the child runs is imported here: the child must not import (nor take any lock)
    import sqlmig.sql.kinds
    import sqlmig.sql.split  # noqa: F401

    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(migrations, write_fd)
    os.close(write_fd)
    return pid, read_fd


def _child(migrations: Sequence[Migration], fd: int) -> NoReturn:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        for m in reversed(migrations):
            verdict = check(Script.from_file(m.up, "up"))
            record = marshal.dumps((m.version, verdict.message, verdict.hint))
            data = memoryview(_HEADER.pack(len(record)) + record)
            while data:
                data = data[os.write(fd, data) :]
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # no atexit handlers, no flushing of buffers copied from the parent
