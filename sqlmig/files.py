"""Discover migration files in a folder, pair up/down files, read their text and directives.

Decisions (SPEC 2 leaves them open):

- A folder entry "looks like a migration" when its name does not start with ``.`` and either
  ends in ``.sql`` (any case) or starts with digits and ``_`` (``001_x.up.sql.bak``,
  ``001_notes.txt``). Such an entry must be a regular file named ``NNN_name.up.sql`` /
  ``NNN_name.down.sql`` or it is a problem. Everything else (README.md, .gitkeep, dot files,
  subdirectories) is ignored.
- A symlink is followed only when its target resolves inside the migrations folder: the
  migration reviewed in the folder must be the one that runs. A symlink pointing outside, or
  nowhere, is a problem.
- Version 0 is refused (``down --to 0`` means "revert everything"), and so is a version beyond
  PostgreSQL's bigint. A version written by two labels (``001_a``/``001_b``, or ``1_a``/``001_a``)
  is one problem; the pairing rules are not checked for that version until it is fixed.
- Content: an empty file is a problem; so is an up file with no statement, and a down file with
  no statement unless it says ``-- sqlmig:irreversible`` (an untouched ``new`` scaffold must not
  pass as a down that silently does nothing). ``has_statements`` needs no splitter: it only
  skips leading whitespace, comments and ``;``, and a statement cannot start inside a string.
- Directives are read exactly from the ``--`` comments before the first statement (comments
  inside ``/* */`` are not directives). After the first statement, lines whose first non-blank
  characters are ``-- sqlmig:`` are checked for a known name and for a top-only directive in the
  wrong place. Limits: such a line inside a multi-line string or function body is checked too,
  and a ``-- sqlmig:`` comment after code on the same line is not checked here (the linter reads
  ``sqlmig:ignore`` there). Rule IDs have the shape ``LOCK001``.
- ``new`` creates the folder if needed, never overwrites, refuses a name already used, writes
  LF/UTF-8, and keeps the widest padding already in use. Timestamps are UTC. With
  ``--template X.up.sql`` the sibling ``X.down.sql``, when it exists, is the down template.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, NamedTuple

from sqlmig import checksum
from sqlmig.durations import HINT as DURATION_HINT
from sqlmig.durations import duration_ms
from sqlmig.errors import MigrationFileError

Kind = Literal["up", "down"]
Versioning = Literal["sequence", "timestamp"]

# Always used with fullmatch (a bare '$' would also match before a trailing newline).
FILENAME_RE: Final = re.compile(r"^(\d+)_([a-z0-9_]+)\.(up|down)\.sql$", re.ASCII)
NAME_RE: Final = re.compile(r"[a-z0-9_]+", re.ASCII)
RULE_ID_RE: Final = re.compile(r"[A-Z]+[0-9]{3}", re.ASCII)
MAX_VERSION: Final = 2**63 - 1  # history stores versions as bigint

DIRECTIVES: Final = (
    "no-transaction",
    "lock-timeout",
    "statement-timeout",
    "irreversible",
    "ignore-file",
    "ignore",
)
_TOP_ONLY: Final = frozenset(DIRECTIVES) - {"ignore"}

_LOOKS_LIKE_RE: Final = re.compile(r"(?is:.*\.sql|[0-9]+_.*)")
_VERSION_PREFIX_RE: Final = re.compile(r"([0-9]+)_", re.ASCII)
_TRIVIA_RE: Final = re.compile(r"[ \t\n\r\f\v;]*")  # PostgreSQL's whitespace, and empty ';'
_COMMENT_DELIM_RE: Final = re.compile(r"/\*|\*/")
_DIRECTIVE_RE: Final = re.compile(r"--[ \t]*sqlmig:(\S*)[ \t]*(.*)", re.IGNORECASE)
_LATE_DIRECTIVE_RE: Final = re.compile(r"--[ \t]*(?i:sqlmig):")

NAMING_HINT: Final = "name migration files NNN_name.up.sql and NNN_name.down.sql, name in [a-z0-9_]"
DIRECTIVE_HINT: Final = (
    "directives: -- sqlmig:no-transaction | lock-timeout 10s | statement-timeout 30min | "
    "irreversible <reason> | ignore-file RULE[,RULE] <reason> | ignore RULE[,RULE] <reason>"
)


class Suppression(NamedTuple):
    """``-- sqlmig:ignore-file RULE[,RULE] <reason>``; ``line`` is 1-based."""

    rules: tuple[str, ...]
    reason: str
    line: int


class Directives(NamedTuple):
    """What a file's header asks for; ``None`` timeouts mean "use the config"."""

    no_transaction: bool = False
    lock_timeout_ms: int | None = None
    statement_timeout_ms: int | None = None
    irreversible: str | None = None
    ignore_file: tuple[Suppression, ...] = ()


_NO_DIRECTIVES: Final = Directives()
_SMALL_FILE: Final = 1 << 16


class SqlFile(NamedTuple):
    """One up or down file: normalised text, its checksum, its directives."""

    path: Path
    text: str
    checksum: str
    directives: Directives


class Migration(NamedTuple):
    version: int
    name: str
    up: SqlFile
    down: SqlFile | None

    @property
    def label(self) -> str:
        """The file name prefix as written, e.g. ``001_create_users``."""
        return self.up.path.name.removesuffix(".up.sql")


class FileProblem(NamedTuple):
    """One broken file rule; ``message`` does not repeat the path, ``line`` is 1-based."""

    path: Path
    message: str
    hint: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        return f"{where}: {self.message}"


class Scan(NamedTuple):
    migrations: tuple[Migration, ...]
    problems: tuple[FileProblem, ...]


class _FileError(MigrationFileError):
    """A MigrationFileError that keeps path, line and detail apart so ``scan`` can list it."""

    def __init__(self, path: Path, detail: str, hint: str, line: int | None = None) -> None:
        self.problem = FileProblem(path, detail, hint, line)
        super().__init__(str(self.problem), hint)


class _Named(NamedTuple):
    """A folder entry whose name parses; not read yet."""

    path: Path
    version: int
    label: str
    name: str
    kind: Kind
    broken: bool = False  # named right but unreadable (already reported); pairs, never read


# ---------------------------------------------------------------------------------------------
# Folder scan


def load(folder: Path) -> list[Migration]:
    """Every migration in ``folder`` sorted by version; the first problem raises."""
    return loaded(scan(folder))


def loaded(result: Scan) -> list[Migration]:
    """The migrations of a folder's scan; its first problem raised."""
    if result.problems:
        raise problems_error(result.problems)
    return list(result.migrations)


def problems_error(problems: Sequence[FileProblem]) -> MigrationFileError:
    """One error for a folder's problems: the first, with a count of the rest in the hint."""
    first, more = problems[0], len(problems) - 1
    hint = first.hint
    if more:
        hint += f" ({more} more problem{'s' if more > 1 else ''}: 'sqlmig check' lists all)"
    return MigrationFileError(str(first), hint)


def scan(folder: Path, only: Callable[[str], bool] | None = None) -> Scan:
    """Read the whole folder and collect every problem instead of stopping at the first.

    ``only`` limits the scan to the entries whose names it accepts; every file rule concerns one
    file or the files of one version, so ``check`` of a few staged files reads only their versions.
    """
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        if only is not None:
            entries = [entry for entry in entries if only(entry.name)]
    except OSError as exc:
        problem = FileProblem(
            folder,
            f"cannot read the migrations folder: {exc.strerror}",
            "create it with 'sqlmig new NAME', or fix 'migrations' in the config",
        )
        return Scan((), (problem,))
    problems: list[FileProblem] = []
    named: list[_Named] = []
    for entry in entries:
        try:
            parsed = _classify(folder, entry, problems)
        except _FileError as exc:
            problems.append(exc.problem)
        else:
            if parsed is not None:
                named.append(parsed)
    migrations = _pair_all(named, problems)
    problems.sort(key=lambda p: (p.path.name, p.line or 0))
    return Scan(tuple(migrations), tuple(problems))


def _classify(folder: Path, entry: os.DirEntry[str], problems: list[FileProblem]) -> _Named | None:
    """The parsed name of a migration entry, None for an unrelated one; raises on a bad name."""
    # DirEntry answers from the directory listing: no stat per file on the pre-commit path.
    if entry.name.startswith(".") or not _LOOKS_LIKE_RE.fullmatch(entry.name):
        return None
    with contextlib.suppress(OSError):  # a symlink loop is reported below
        if entry.is_dir():
            return None
    path = folder / entry.name
    named = _parse_name(path)
    try:
        _check_entry_kind(folder, path, entry)
    except _FileError as exc:
        problems.append(exc.problem)
        return named._replace(broken=True)  # still pairs, so its partner is not "missing"
    return named


def _parse_name(path: Path) -> _Named:
    match = FILENAME_RE.fullmatch(path.name)
    if match is None:
        raise _FileError(path, _misnamed_reason(path.name), NAMING_HINT)
    digits, name, kind = match.groups()
    version = int(digits)
    if not 0 < version <= MAX_VERSION:
        raise _FileError(
            path, f"version {digits} is out of range (1 to {MAX_VERSION})", NAMING_HINT
        )
    return _Named(path, version, f"{digits}_{name}", name, "up" if kind == "up" else "down")


def _check_entry_kind(folder: Path, path: Path, entry: os.DirEntry[str]) -> None:
    if entry.is_symlink():
        try:
            target = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
            raise _FileError(path, "is a symlink loop", "remove it") from None
        if not target.is_relative_to(folder.resolve()):
            raise _FileError(
                path,
                f"is a symlink to {target}, outside the migrations folder",
                "copy the file into the folder: the reviewed file must be the one that runs",
            )
        if not target.exists():
            raise _FileError(path, "is a broken symlink", "remove it or point it at a file")
    if not entry.is_file():
        raise _FileError(path, "is not a regular file", NAMING_HINT)


def _misnamed_reason(name: str) -> str:
    lower = name.lower()
    if FILENAME_RE.fullmatch(lower):
        return f"looks like a migration but is not lower case; rename it {lower}"
    if lower.endswith(".sql") and not lower.endswith((".up.sql", ".down.sql")):
        return "looks like a migration but has no .up or .down before .sql"
    return "looks like a migration but is not named NNN_name.up.sql or NNN_name.down.sql"


def _pair_all(named: list[_Named], problems: list[FileProblem]) -> list[Migration]:
    by_version: dict[int, list[_Named]] = {}
    for entry in named:
        by_version.setdefault(entry.version, []).append(entry)
    migrations = []
    for version in sorted(by_version):
        entries = by_version[version]
        labels = sorted({e.label for e in entries})
        if len(labels) > 1:
            problems.append(_duplicate_problem(version, labels, entries))
            continue
        migration = _pair(entries, problems)
        if migration is not None:
            migrations.append(migration)
    return migrations


def _duplicate_problem(version: int, labels: list[str], entries: list[_Named]) -> FileProblem:
    count = {2: "two", 3: "three"}.get(len(labels), str(len(labels)))
    last = max(entries, key=lambda e: e.path.name)
    return FileProblem(
        last.path,
        f"version {version} is used by {count} migrations: {', '.join(labels)}",
        "give each migration its own version (renumber the one not applied anywhere yet)",
    )


def _pair(entries: list[_Named], problems: list[FileProblem]) -> Migration | None:
    """One migration from its up and down entries (same label), or None after a problem."""
    files = {e.kind: e for e in entries}
    up, down = files.get("up"), files.get("down")
    if up is None:
        assert down is not None
        problems.append(FileProblem(down.path, f"has no up file {down.label}.up.sql", NAMING_HINT))
        return None
    sql_up = _read_checked(up, problems)  # read anyway: report its own problems too
    if down is None:
        problems.append(_missing_down(up))
        return None
    sql_down = _read_checked(down, problems)
    if sql_up is None or sql_down is None:
        return None
    return Migration(up.version, up.name, sql_up, sql_down)


def _missing_down(up: _Named) -> FileProblem:
    return FileProblem(
        up.path,
        f"has no down file; create {up.label}.down.sql",
        "write the SQL that undoes the up file, or '-- sqlmig:irreversible <reason>' if it "
        "cannot be undone",
    )


def _read_checked(entry: _Named, problems: list[FileProblem]) -> SqlFile | None:
    if entry.broken:
        return None
    try:
        sql = read_sql_file(entry.path, entry.kind)
        _check_content(sql, entry.kind)
    except _FileError as exc:
        problems.append(exc.problem)
        return None
    except MigrationFileError as exc:  # from checksum.decode: "<path>: <what>"
        detail = exc.message.removeprefix(f"{entry.path}: ")
        problems.append(FileProblem(entry.path, detail, exc.hint))
        return None
    return sql


def _check_content(sql: SqlFile, kind: Kind) -> None:
    if not sql.text or sql.text.isspace():  # isspace: no copy of a 50 MB text
        raise _FileError(sql.path, "is empty", _content_hint(kind))
    if has_statements(sql.text):
        return
    if kind == "down" and sql.directives.irreversible is not None:
        return
    raise _FileError(sql.path, "contains no SQL statement, only comments", _content_hint(kind))


def _content_hint(kind: Kind) -> str:
    if kind == "up":
        return "write the migration's SQL in it"
    return "write the SQL that undoes the up file, or '-- sqlmig:irreversible <reason>'"


def has_statements(text: str) -> bool:
    """True when ``text`` has a statement: anything but whitespace, comments and ``;``.

    Exact without a SQL lexer: the first token of a statement cannot be inside a string, so
    only whitespace, ``--`` comments and (nested) ``/* */`` comments need skipping.
    """
    return _skip_header(text, None) < len(text)


# ---------------------------------------------------------------------------------------------
# One file


def read_sql_file(path: Path, kind: Kind) -> SqlFile:
    """Read, decode and checksum one file and parse its directives."""
    try:
        raw = _read_bytes(path)
    except OSError as exc:
        raise _FileError(path, f"cannot be read: {exc.strerror}", "check the file") from None
    text = checksum.decode(raw, path)
    digest = checksum.file_checksum(raw, text)
    del raw  # a 50 MB seed file: keep one copy while its directives are read
    return SqlFile(path, text, digest, parse_directives(text, path, kind))


def _read_bytes(path: Path) -> bytes:
    """The file's bytes in three system calls when it is small (``status`` reads 2,000 files;
    ``Path.read_bytes`` costs three times as much); a large file is read at once, sized by
    ``fstat``, so that it is not copied while being read."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, _SMALL_FILE)
        if len(data) < _SMALL_FILE:
            return data
        os.lseek(fd, 0, os.SEEK_SET)
        with open(fd, "rb", buffering=0, closefd=False) as whole:
            return whole.read()
    finally:
        os.close(fd)


def _skip_header(text: str, comments: list[tuple[int, str]] | None) -> int:
    """Offset of the first statement; appends the header's ``--`` comments to ``comments``."""
    pos, size = 0, len(text)
    while True:
        trivia = _TRIVIA_RE.match(text, pos)
        pos = trivia.end() if trivia is not None else pos
        if text.startswith("--", pos):
            eol = text.find("\n", pos)
            eol = size if eol < 0 else eol
            if comments is not None:
                comments.append((pos, text[pos:eol]))
            pos = eol
        elif text.startswith("/*", pos):
            pos = _block_comment_end(text, pos)
        else:
            return pos


def _block_comment_end(text: str, start: int) -> int:
    """End of the block comment opening at ``start``; PostgreSQL's block comments nest."""
    depth = 0
    for delim in _COMMENT_DELIM_RE.finditer(text, start):
        depth += 1 if delim.group() == "/*" else -1
        if depth == 0:
            return delim.end()
    return len(text)  # unterminated: the rest is comment (PostgreSQL rejects the file anyway)


class _Lines:
    """1-based line numbers for increasing offsets, counting each newline once."""

    def __init__(self, text: str) -> None:
        self.text, self.offset, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def parse_directives(text: str, path: Path, kind: Kind) -> Directives:
    """Directives from the header; raises MigrationFileError naming ``path:line``."""
    if _LATE_DIRECTIVE_RE.search(text) is None:
        return _NO_DIRECTIVES  # every directive, early or late, is a match of that pattern
    comments: list[tuple[int, str]] = []
    end = _skip_header(text, comments)
    lines = _Lines(text)
    collector = _Collector(path, kind)
    for offset, comment in comments:
        match = _DIRECTIVE_RE.fullmatch(comment)
        if match is not None:
            collector.add(lines.at(offset), match.group(1), match.group(2).strip())
    first_statement_line = lines.at(end)
    for match in _LATE_DIRECTIVE_RE.finditer(text, end):  # finds '--' fast, even in 50 MB
        start = match.start()
        if text[text.rfind("\n", 0, start) + 1 : start].strip(" \t"):
            continue  # after code on the same line: the linter's business (module docstring)
        eol = text.find("\n", start)
        comment = text[start:] if eol < 0 else text[start:eol]
        _check_late(path, lines.at(start), comment, first_statement_line)
    return collector.result()


def _check_late(path: Path, line: int, comment: str, first_statement_line: int) -> None:
    """A ``-- sqlmig:`` line after the first statement: only ``ignore`` belongs there."""
    match = _DIRECTIVE_RE.fullmatch(comment.rstrip())
    name = match.group(1) if match is not None else ""
    _check_name(path, line, name)
    if name in _TOP_ONLY:
        raise _FileError(
            path,
            f"sqlmig:{name} must come before the first statement (line {first_statement_line}); "
            "here it would do nothing",
            "move it to the top of the file",
            line,
        )


def _check_name(path: Path, line: int, name: str) -> None:
    if name in DIRECTIVES:
        return
    guess = difflib.get_close_matches(name.lower(), DIRECTIVES, n=1)
    suggestion = f"; did you mean sqlmig:{guess[0]}?" if guess else ""
    raise _FileError(path, f"unknown directive sqlmig:{name}{suggestion}", DIRECTIVE_HINT, line)


class _Collector:
    """Accumulates header directives, checking each one's argument and repetition."""

    def __init__(self, path: Path, kind: Kind) -> None:
        self.path, self.kind = path, kind
        self.seen: dict[str, int] = {}
        self.no_transaction = False
        self.timeouts: dict[str, int] = {}
        self.irreversible: str | None = None
        self.ignore_file: list[Suppression] = []

    def error(self, line: int, detail: str, hint: str = DIRECTIVE_HINT) -> _FileError:
        return _FileError(self.path, detail, hint, line)

    def add(self, line: int, name: str, arg: str) -> None:
        _check_name(self.path, line, name)
        if name in self.seen and name not in ("ignore-file", "ignore"):
            raise self.error(line, f"sqlmig:{name} repeats line {self.seen[name]}")
        self.seen.setdefault(name, line)
        if name == "no-transaction":
            if arg:
                raise self.error(line, f"sqlmig:no-transaction takes no argument, got {arg!r}")
            self.no_transaction = True
        elif name in ("lock-timeout", "statement-timeout"):
            self.timeouts[name] = self.duration(line, name, arg)
        elif name == "irreversible":
            self.irreversible = self.reason_for_irreversible(line, arg)
        else:
            rules, reason = self.rules_and_reason(line, name, arg)
            if name == "ignore-file":
                self.ignore_file.append(Suppression(rules, reason, line))

    def duration(self, line: int, name: str, arg: str) -> int:
        try:
            return duration_ms(arg)
        except ValueError as exc:
            raise self.error(line, f"sqlmig:{name} {exc}", DURATION_HINT) from None

    def reason_for_irreversible(self, line: int, arg: str) -> str:
        if self.kind == "up":
            raise self.error(line, "sqlmig:irreversible belongs in the down file, not the up file")
        if not arg:
            raise self.error(line, "sqlmig:irreversible needs a reason")
        return arg

    def rules_and_reason(self, line: int, name: str, arg: str) -> tuple[tuple[str, ...], str]:
        rules_text, _, reason = arg.replace("\t", " ").partition(" ")
        rules = tuple(rules_text.split(","))
        for rule in rules:
            if not RULE_ID_RE.fullmatch(rule):
                raise self.error(line, f"sqlmig:{name}: {rule!r} is not a rule ID like LOCK001")
        if not reason.strip():
            raise self.error(line, f"sqlmig:{name} needs a reason after the rule IDs")
        return rules, reason.strip()

    def result(self) -> Directives:
        return Directives(
            no_transaction=self.no_transaction,
            lock_timeout_ms=self.timeouts.get("lock-timeout"),
            statement_timeout_ms=self.timeouts.get("statement-timeout"),
            irreversible=self.irreversible,
            ignore_file=tuple(self.ignore_file),
        )


# ---------------------------------------------------------------------------------------------
# sqlmig new


def format_version(version: int, versioning: Versioning, width: int = 3) -> str:
    """Zero-padded: ``width`` digits (more when needed) for sequence, 14 for timestamp."""
    return f"{version:0{14 if versioning == 'timestamp' else width}d}"


def next_version(versions: Iterable[int], versioning: Versioning, now: datetime) -> int:
    """The version ``new`` gives: highest + 1, or ``now`` as YYYYMMDDHHMMSS if higher."""
    following = max(versions, default=0) + 1
    if versioning == "sequence":
        return following
    return max(int(now.strftime("%Y%m%d%H%M%S")), following)


def new_migration(
    folder: Path,
    name: str,
    versioning: Versioning,
    template: Path | None = None,
    now: datetime | None = None,
) -> tuple[Path, Path]:
    """Create the next ``NNN_name.up.sql`` / ``.down.sql`` pair; return their paths."""
    _check_new_name(name)
    templates = _read_templates(template)
    existing = _existing_labels(folder)
    _check_name_unused(name, existing)
    version = next_version(existing.values(), versioning, now or datetime.now(UTC))
    width = max((len(label.partition("_")[0]) for label in existing), default=3)
    label = f"{format_version(version, versioning, max(width, 3))}_{name}"
    up_text, down_text = _scaffold(label, templates)
    up, down = folder / f"{label}.up.sql", folder / f"{label}.down.sql"
    for path in (up, down):
        if path.exists():
            raise MigrationFileError(f"{path}: already exists", "sqlmig new never overwrites")
    _create(up, up_text)
    try:
        _create(down, down_text)
    except MigrationFileError:
        up.unlink()
        raise
    return up, down


def _check_new_name(name: str) -> None:
    if NAME_RE.fullmatch(name):
        return
    fixed = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    what = "is empty" if not name else "may only contain a-z, 0-9 and _"
    hint = f"for example: sqlmig new {fixed or 'add_users_table'}"
    raise MigrationFileError(f"migration name {name!r} {what}", hint)


def _existing_labels(folder: Path) -> dict[str, int]:
    """Label -> version of every entry with a version prefix, valid or not, so none is reused.

    Creates the folder first: ``new`` is how a project gets its first migration.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with os.scandir(folder) as listing:
            names = [entry.name for entry in listing]
    except OSError as exc:
        raise MigrationFileError(
            f"{folder}: cannot use as the migrations folder: {exc.strerror}",
            "fix 'migrations' in the config",
        ) from None
    labels = {}
    for name in names:
        match = _VERSION_PREFIX_RE.match(name)
        if match is not None:
            labels[name.split(".", 1)[0]] = int(match.group(1))
    return labels


def _check_name_unused(name: str, existing: dict[str, int]) -> None:
    for label in existing:
        if label.partition("_")[2] == name:
            raise MigrationFileError(
                f"a migration named {name} already exists: {label}",
                "choose another name ('sqlmig apply NAME' must find one migration)",
            )


def _read_templates(template: Path | None) -> tuple[str, str] | None:
    if template is None:
        return None
    up = _read_template(template)
    sibling = template.with_name(template.name.removesuffix(".up.sql") + ".down.sql")
    has_down = template.name.endswith(".up.sql") and sibling.is_file()
    return up, _read_template(sibling) if has_down else ""


def _read_template(path: Path) -> str:
    try:
        return checksum.decode(path.read_bytes(), path)
    except OSError as exc:
        raise MigrationFileError(
            f"{path}: cannot read template: {exc.strerror}", "check the --template path"
        ) from None


def _scaffold(label: str, templates: tuple[str, str] | None) -> tuple[str, str]:
    up = f"-- {label}: write the migration here.\n"
    down = (
        f"-- {label}: write the SQL that undoes {label}.up.sql here.\n"
        "-- If it cannot be undone, replace these lines with one line:\n"
        "--   -- sqlmig:irreversible <reason>\n"
    )
    if templates is None:
        return up, down
    return templates[0], templates[1] or down


def _create(path: Path, text: str) -> None:
    try:
        with path.open("x", encoding="utf-8", newline="\n") as out:
            out.write(text)
    except FileExistsError:
        raise MigrationFileError(f"{path}: already exists", "sqlmig new never overwrites") from None
    except OSError as exc:
        raise MigrationFileError(
            f"{path}: cannot create: {exc.strerror}", "check the folder"
        ) from None
