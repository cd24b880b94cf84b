"""Read the migrations folder, and check the up scripts, on the second core while this process
loads psycopg and connects.

A database command first reads and checksums every file of the folder (2,000 files for 1,000
migrations: 35-45 ms), and ``up`` splits every pending script to refuse a bad one before
anything runs (as long again for 1,000 new migrations). Neither needs the database, and loading
psycopg (about 100 ms) needs neither, so a forked child does the first two while this process
does the third. The child sends the folder's scan (the texts, checksums and directives it read:
the texts that run are the very ones it checksummed), then, for ``up``, one verdict per up
script, newest first (the pending migrations are usually the newest). It is stopped and reaped
as soon as the run has what it needs.

Used only where ``fork`` is safe and worth it: a POSIX system, two or more usable cores, one
thread in this process, and a folder of at least ``FORK_MIN_FILES`` entries. Otherwise, and
whenever the child sends nothing usable (it failed, or was stopped early), this process scans
and checks itself: the outcome is the same either way, only the time differs.
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
from pathlib import Path
from typing import Any, Final, NamedTuple, NoReturn

from sqlmig import files
from sqlmig.errors import MigrationFileError
from sqlmig.files import Directives, FileProblem, Migration, Scan, SqlFile, Suppression
from sqlmig.script import Script

FORK_MIN_FILES: Final = 200  # a smaller folder is read and checked here in a few milliseconds
PIPE_BYTES: Final = 1 << 20  # room for the scan of a large folder, so the child goes on checking
# Texts the child sends at most: a folder holding more (a large seed file) is read here, so that
# its texts are not copied through the pipe (memory); the child still checks the up scripts.
SCAN_MAX_CHARS: Final = 16 << 20
_NOT_SENT: Final = ()  # the child's scan record when the folder is too large to send
_HEADER: Final = struct.Struct("<I")
_NO_DIRECTIVES: Final = Directives()


class Verdict(NamedTuple):
    """The finding on one up script: no message, or the error ``check_runnable`` raised."""

    message: str | None
    hint: str | None
    checksum: str | None = None  # of the file the child checked


def check(script: Script) -> Verdict:
    """Split ``script`` and refuse what cannot run, as ``Executor.up`` would before running."""
    try:
        script.check_runnable()
    except MigrationFileError as exc:
        return Verdict(exc.message, exc.hint)
    return Verdict(None, None)


class Ahead:
    """The folder's scan and the up scripts' verdicts, from a child process when one runs."""

    def __init__(self, folder: Path, pid: int | None = None, fd: int | None = None) -> None:
        self.folder = folder
        self._pid = pid
        self._fd = fd
        self._buffer = bytearray()
        self._pos = 0  # start of the first record not read yet
        self._scan: Scan | None = None
        self._verdicts: dict[int, Verdict] = {}

    def scan(self) -> Scan:
        """What ``files.scan`` of the folder gives: the child's, or read here."""
        if self._scan is None:
            wire = next(self._records(), None)
            if wire != _NOT_SENT:
                self._scan = _from_wire(wire, self.folder)
                if self._scan is None:  # nothing usable came: the child is of no more use
                    self.close()
            if self._scan is None:
                self._scan = files.scan(self.folder)
        return self._scan

    def migrations(self) -> list[Migration]:
        """What ``files.load`` gives: the migrations, or the folder's first problem raised."""
        return files.loaded(self.scan())

    def require(self, scripts: Sequence[tuple[int, str, Script]]) -> None:
        """Raise the error of the first script in ``scripts`` (version, checksum of its file,
        script) that cannot run: the child's verdict on a file of that checksum where it has
        one, else checked here. Stops the child."""
        self.scan()
        missing = {version for version, _, _ in scripts} - self._verdicts.keys()
        for version, checksum, message, hint in self._records() if missing else ():
            self._verdicts[int(version)] = Verdict(message, hint, checksum)
            missing.discard(int(version))
            if not missing:
                break
        self.close()
        for version, checksum, script in scripts:
            verdict = self._verdicts.get(version)
            if verdict is None or verdict.checksum != checksum:
                verdict = check(script)
            if verdict.message is not None:
                raise MigrationFileError(verdict.message, verdict.hint)

    def _records(self) -> Iterator[Any]:
        """The child's next records, as they arrive, until it ends."""
        while self._fd is not None:
            record = self._next_buffered()
            if record is not None:
                yield record
                continue
            try:
                select.select([self._fd], [], [], 1.0)
                chunk = os.read(self._fd, PIPE_BYTES)
            except InterruptedError:
                continue
            if not chunk:  # the child is done, or gone
                self.close()
                return
            if self._pos:
                del self._buffer[: self._pos]
                self._pos = 0
            self._buffer += chunk

    def _next_buffered(self) -> Any:
        """The next whole record in the buffer, else None (no record is None itself)."""
        start = self._pos + _HEADER.size
        if len(self._buffer) < start:
            return None
        (size,) = _HEADER.unpack_from(self._buffer, self._pos)
        if len(self._buffer) < start + size:
            return None
        with memoryview(self._buffer) as view:
            record = marshal.loads(view[start : start + size])
        self._pos = start + size
        return record

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
def reading_ahead(folder: Path, *, check_up: bool) -> Iterator[Ahead]:
    """Start reading ``folder`` (and with ``check_up``, checking its up scripts) in a child when
    worth it; the child is always stopped and reaped on leaving the block."""
    ahead = Ahead(folder)
    if _worth_forking(folder):
        started = _fork(folder, check_up)
        if started is not None:
            ahead = Ahead(folder, *started)
    try:
        yield ahead
    finally:
        ahead.close()


def _worth_forking(folder: Path) -> bool:
    if not hasattr(os, "fork") or sys.platform == "win32":
        return False
    if threading.active_count() != 1:  # a lock held by another thread would stay held
        return False
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if (len(cores) if cores is not None else os.cpu_count() or 1) < 2:
        return False
    try:
        return len(os.listdir(folder)) >= FORK_MIN_FILES
    except OSError:
        return False  # scanned here, which reports it


def _fork(folder: Path, check_up: bool) -> tuple[int, int] | None:
    # With one thread, no lock can be held at the fork: the child may import the SQL lexer
    # itself (a run with nothing pending never loads it here).
    read_fd, write_fd = os.pipe()
    _widen(write_fd)
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(folder, check_up, write_fd)
    os.close(write_fd)
    return pid, read_fd


def _widen(fd: int) -> None:
    """A pipe that holds a large folder's scan (Linux; elsewhere the child waits for reads)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _child(folder: Path, check_up: bool, fd: int) -> NoReturn:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        found = files.scan(folder)
        chars = sum(len(f.text) for m in found.migrations for f in (m.up, m.down) if f)
        _send(fd, _to_wire(found) if chars <= SCAN_MAX_CHARS else _NOT_SENT)
        if check_up:
            for m in reversed(found.migrations):
                verdict = check(Script.from_file(m.up, "up"))
                _send(fd, (m.version, m.up.checksum, verdict.message, verdict.hint))
    except BaseException:
        code = 1  # the parent reads or checks itself what it got nothing for
    finally:
        os._exit(code)  # no atexit handlers, no flushing of buffers copied from the parent


def _send(fd: int, record: Any) -> None:
    payload = marshal.dumps(record)
    for part in (_HEADER.pack(len(payload)), payload):  # no copy of a large payload
        data = memoryview(part)
        while data:
            data = data[os.write(fd, data) :]


# -- the scan as builtin values (marshal), and back --------------------------------------------


def _to_wire(found: Scan) -> tuple[Any, ...]:
    return (
        tuple((m.version, m.name, _file_wire(m.up), _file_wire(m.down)) for m in found.migrations),
        tuple((str(p.path), p.message, p.hint, p.line) for p in found.problems),
    )


def _file_wire(f: SqlFile | None) -> tuple[Any, ...] | None:
    if f is None:
        return None
    d = f.directives
    directives = None if d == _NO_DIRECTIVES else (*d[:4], tuple(tuple(s) for s in d[4]))
    return (f.path.name, f.text, f.checksum, directives)


def _from_wire(wire: Any, folder: Path) -> Scan | None:
    """The scan a child sent (its files are ``folder`` / name), None if it is not one."""
    try:
        migrations, problems = wire
        return Scan(
            tuple(
                Migration(version, name, _file(folder, up), _file(folder, down))
                for version, name, up, down in migrations
            ),
            tuple(FileProblem(Path(path), *rest) for path, *rest in problems),
        )
    except (TypeError, ValueError):
        return None


def _file(folder: Path, wire: Any) -> Any:
    if wire is None:
        return None
    name, text, checksum, directives = wire
    if directives is None:
        return SqlFile(folder / name, text, checksum, _NO_DIRECTIVES)
    no_transaction, lock_ms, statement_ms, irreversible, suppressions = directives
    ignore = tuple(Suppression(tuple(rules), reason, line) for rules, reason, line in suppressions)
    parsed = Directives(no_transaction, lock_ms, statement_ms, irreversible, ignore)
    return SqlFile(folder / name, text, checksum, parsed)
