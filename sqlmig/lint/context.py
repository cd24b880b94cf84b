"""What a rule knows about the file it checks: its statements (DO bodies included), how sqlmig
will run it, the lock_timeout in force at each statement, and what the file created before.

Decisions:

- Transactions follow :class:`sqlmig.script.Script` (one transaction, or segments), except that
  explicit ``BEGIN ... COMMIT`` blocks are honoured in ``-- sqlmig:no-transaction`` files as the
  executor honours them. ``stmt.tx`` numbers the transaction a statement runs in (statements
  alone in autocommit get their own number; DO-body statements share their DO's).
- lock_timeout: sqlmig sets the configured value (or the file's ``-- sqlmig:lock-timeout``) on
  every session. ``SET [SESSION] lock_timeout``, ``SET LOCAL`` (until its transaction ends; no
  effect in autocommit), ``set_config('lock_timeout', v, is_local)`` change it; ``RESET`` and
  ``DEFAULT`` are taken as 0, the server's default.
- "Created earlier in this file": CREATE TABLE (also TEMP/UNLOGGED/FOREIGN, AS, PARTITION OF)
  and CREATE MATERIALIZED VIEW count as kind ``table``; also ``view``, ``index``, ``type``
  (types and domains), ``sequence``, ``schema``; a table or index renamed after its creation
  counts under its new name too. Names compare by :meth:`ObjectName.same`. ``DROP`` of the
  same kinds is recorded too (``dropped_before``), with or without IF EXISTS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final, Literal

from sqlmig.errors import MigrationFileError
from sqlmig.files import Directives, Kind
from sqlmig.lint.model import LineIndex, ObjectName, Span, Stmt, Word, from_cut
from sqlmig.lint.plpgsql import do_statements
from sqlmig.lint.source import Source
from sqlmig.script import Mode, Script
from sqlmig.sql.split import Statement

ObjectKind = Literal["table", "view", "index", "type", "sequence", "schema"]
TransactionControl = Literal["begin", "commit", "rollback", "rollback-to", "savepoint", "release"]

# CREATE/DROP/ALTER [modifiers] <word> name: the kinds of object tracked in a file.
_OBJECTS: Final[dict[str, ObjectKind]] = {
    "TABLE": "table",
    "VIEW": "view",
    "INDEX": "index",
    "TYPE": "type",
    "DOMAIN": "type",
    "SEQUENCE": "sequence",
    "SCHEMA": "schema",
}
_MODIFIERS: Final = frozenset(
    {"OR", "REPLACE", "GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED", "FOREIGN"}
    | {"MATERIALIZED", "RECURSIVE", "UNIQUE"}
)
_DURATION_RE: Final = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([a-z]*)\s*")
_UNIT_MS: Final = {"": 1.0, "us": 0.001, "ms": 1.0, "s": 1e3, "min": 6e4, "h": 3.6e6, "d": 8.64e7}


class FileContext:
    """One file as the rules see it. Build it with :func:`build`."""

    def __init__(self, source: Source, lock_timeout_ms: int, script: Script) -> None:
        self.source = source
        self.path: Path = source.file.path
        self.display: str = source.display  # the path as findings show it
        self.kind: Kind = source.kind
        self.text: str = source.file.text
        self.directives: Directives = source.file.directives
        self.mode: Mode = script.mode  # "transaction" or "segmented"
        self.no_transaction: bool = self.directives.no_transaction
        # What sqlmig sets on the session: the file's directive, else the config; 0 = none.
        self.lock_timeout_ms: int = (
            lock_timeout_ms
            if self.directives.lock_timeout_ms is None
            else self.directives.lock_timeout_ms
        )
        self.partner_path: Path | None = source.partner_path
        self.partner_exists: bool = source.partner_exists
        self.lines = LineIndex(self.text)
        self.top: tuple[Stmt, ...] = ()  # the file's own statements, as the executor runs them
        self.statements: tuple[Stmt, ...] = ()  # the same, each DO followed by its body's
        self._created: dict[tuple[ObjectKind, str], list[tuple[int, ObjectName]]] = {}
        self._dropped: dict[tuple[ObjectKind, str], list[tuple[int, ObjectName]]] = {}
        self._partner: FileContext | None = None
        self._by_first: dict[str, list[Stmt]] | None = None
        self._configured_lock_timeout_ms = lock_timeout_ms

    @property
    def partner(self) -> FileContext | None:
        """The other file of the up/down pair, modelled; None when missing or unreadable."""
        if self._partner is None and self.source.partner is not None:
            other = self.source.partner
            kind: Kind = "down" if self.kind == "up" else "up"
            source = Source(other, kind, str(other.path), self.path, True, self.source.file)
            self._partner = build(source, self._configured_lock_timeout_ms)
        return self._partner

    def earlier_files(self) -> list[FileContext]:
        """The up files of lower versions in this file's folder, oldest first, modelled once
        per run (files that cannot be split are left out). Empty for a file not named like a
        migration, and in memory without a folder."""
        folder, version = self.source.folder, self.source.version
        if folder is None or version is None:
            return []
        out = []
        for file in folder.before(version):
            ctx = folder.contexts.get(file.path)
            if ctx is None:
                try:
                    ctx = build(
                        Source(file, "up", str(file.path)), self._configured_lock_timeout_ms
                    )
                except MigrationFileError:
                    continue
                folder.contexts[file.path] = ctx
            out.append(ctx)
        return out

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset in the file."""
        return self.lines.position(offset)

    def created_before(self, stmt: Stmt, kind: ObjectKind, name: ObjectName | None) -> bool:
        """Whether a statement before ``stmt`` in this file created ``name`` (of ``kind``)."""
        return _before(self._created, stmt, kind, name)

    def dropped_before(self, stmt: Stmt, kind: ObjectKind, name: ObjectName | None) -> bool:
        """Whether a ``DROP`` before ``stmt`` in this file dropped ``name`` (of ``kind``)."""
        return _before(self._dropped, stmt, kind, name)

    def starting_with(self, *words: str) -> list[Stmt]:
        """The statements (DO bodies' included) whose first word is one of ``words``, in order."""
        if self._by_first is None:
            self._by_first = {}
            for stmt in self.statements:
                self._by_first.setdefault(stmt.kw(0), []).append(stmt)
        found = [s for word in words for s in self._by_first.get(word.upper(), ())]
        return sorted(found, key=lambda s: s.index) if len(words) > 1 else found

    def earlier(self, stmt: Stmt) -> Iterator[Stmt]:
        """The statements before ``stmt``, nearest first."""
        return reversed(self.statements[: stmt.index])


def build(source: Source, lock_timeout_ms: int) -> FileContext:
    """The context of one file; raises MigrationFileError when it cannot be split."""
    file = source.file
    script = Script(source.display, file.text, file.directives, source.kind)
    cuts = script.statements  # the executor's own split; raises with path:line:col
    ctx = FileContext(source, lock_timeout_ms, script)
    ctx.top, ctx.statements = _statements(file.text, cuts, ctx.lines)
    _transactions(ctx, script)
    _lock_timeouts(ctx.statements, ctx.lock_timeout_ms)
    _record_creations(ctx)
    return ctx


def _statements(
    text: str, cuts: list[Statement], lines: LineIndex
) -> tuple[tuple[Stmt, ...], tuple[Stmt, ...]]:
    top: list[Stmt] = []
    every: list[Stmt] = []
    for number, cut in enumerate(cuts):
        stmt = from_cut(text, cut, lines)
        top.append(stmt)
        body = do_statements(stmt, lines) if stmt.kw(0) == "DO" else []
        for s in (stmt, *body):
            s.top, s.index = number, len(every)
            every.append(s)
    return tuple(top), tuple(every)


# -- transactions -------------------------------------------------------------------------------


def transaction_control(stmt: Stmt) -> TransactionControl | None:
    """What an explicit transaction statement of the file does (None for anything else and
    for statements inside DO bodies). ``PREPARE TRANSACTION`` ends the transaction: "commit"."""
    if stmt.in_do:
        return None
    first = stmt.kw(0)
    if first in ("BEGIN", "START"):
        return "begin" if first == "BEGIN" or stmt.kw(1) == "TRANSACTION" else None
    if first in ("COMMIT", "END", "ROLLBACK", "ABORT"):
        if stmt.kw(1) == "PREPARED":
            return None
        if stmt.kw(1) == "TO" or (stmt.kw(1) in ("WORK", "TRANSACTION") and stmt.kw(2) == "TO"):
            return "rollback-to"
        return "commit" if first in ("COMMIT", "END") else "rollback"
    if first == "PREPARE" and stmt.kw(1) == "TRANSACTION":
        return "commit"
    if first == "SAVEPOINT":
        return "savepoint"
    if first == "RELEASE":
        return "release"
    return None


def _transactions(ctx: FileContext, script: Script) -> None:
    _explicit_blocks(ctx.top)
    numbers = iter(range(1, 1 << 62))
    if ctx.mode == "transaction":
        pass  # every statement: transaction 0, in a transaction block (the defaults)
    elif ctx.no_transaction:
        _autocommit(ctx.top, numbers)
    else:
        for segment in script.segments:
            tx = next(numbers)
            for stmt in ctx.top[segment.start : segment.end]:
                stmt.tx, stmt.in_transaction_block = tx, segment.transactional
    for stmt in ctx.statements:
        if stmt.parent is not None:
            stmt.tx = stmt.parent.tx
            stmt.explicit_transaction = stmt.parent.explicit_transaction
            stmt.in_transaction_block = True  # a DO body never runs CONCURRENTLY


def _explicit_blocks(top: tuple[Stmt, ...]) -> None:
    """Mark statements between an explicit BEGIN and its COMMIT/ROLLBACK (a nested BEGIN
    is itself marked, the BEGIN that opens a block is not)."""
    open_ = False
    for stmt in top:
        control = transaction_control(stmt)
        stmt.explicit_transaction = open_
        if control == "begin":
            open_ = True
        elif control in ("commit", "rollback"):
            open_ = False


def _autocommit(top: tuple[Stmt, ...], numbers: Iterator[int]) -> None:
    """A no-transaction file: each statement alone, except explicit BEGIN ... COMMIT blocks."""
    block: int | None = None
    for stmt in top:
        control = transaction_control(stmt)
        if control == "begin" and block is None:
            block = next(numbers)
        stmt.tx = next(numbers) if block is None else block
        stmt.in_transaction_block = stmt.explicit_transaction
        if control in ("commit", "rollback"):
            block = None


# -- lock_timeout -------------------------------------------------------------------------------


def _lock_timeouts(stmts: tuple[Stmt, ...], configured_ms: int) -> None:
    session = configured_ms
    local: tuple[int, int] | None = None  # (transaction, value) of a SET LOCAL
    set_in_file = False
    for stmt in stmts:
        if local is not None and local[0] != stmt.tx:
            local = None
        stmt.lock_timeout_ms = session if local is None else local[1]
        stmt.lock_timeout_set_in_file = set_in_file
        change = lock_timeout_change(stmt)
        if change is None:
            continue
        is_local, value = change
        set_in_file = set_in_file or value > 0
        if not is_local:
            session, local = value, None
        elif stmt.in_transaction_block:
            local = (stmt.tx, value)


def lock_timeout_change(stmt: Stmt) -> tuple[bool, int] | None:
    """(is_local, milliseconds) when ``stmt`` sets lock_timeout, else None."""
    first = stmt.kw(0)
    if first == "SET":
        i = 2 if stmt.kw(1) in ("LOCAL", "SESSION") else 1
        if _name(stmt, i) != "lock_timeout":
            return None
        i += 2 if stmt.kw(i + 1) in ("=", "TO") else 1
        return stmt.kw(1) == "LOCAL", (_milliseconds(stmt.word(i)) if i < len(stmt) else 0)
    if first == "RESET":
        return (False, 0) if _name(stmt, 1) in ("lock_timeout", "all") else None
    call = stmt.find("SET_CONFIG", "(")
    if call is None:
        return None
    args = Span(stmt, call + 2, stmt.group_end(call + 1)).split()
    if len(args) != 3 or stmt.word(args[0].start).value != "lock_timeout":
        return None
    return args[2].kw(args[2].start) == "TRUE", _milliseconds(stmt.word(args[1].start))


def _name(stmt: Stmt, i: int) -> str | None:
    return stmt.word(i).name if i < len(stmt) else None


def _milliseconds(word: Word) -> int:
    """A lock_timeout value in ms; one PostgreSQL reads but this does not counts as set (1)."""
    if word.kw == "DEFAULT":
        return 0
    text = word.value if word.kind in ("string", "dollar") else word.text
    match = _DURATION_RE.fullmatch(text or "")
    if match is None or match.group(2) not in _UNIT_MS:
        return 1
    return round(float(match.group(1)) * _UNIT_MS[match.group(2)])


# -- objects created in the file ----------------------------------------------------------------


Made = dict[tuple[ObjectKind, str], list[tuple[int, ObjectName]]]


def _before(made: Made, stmt: Stmt, kind: ObjectKind, name: ObjectName | None) -> bool:
    if name is None:
        return False
    return any(i < stmt.index and n.same(name) for i, n in made.get((kind, name.name), ()))


def _record_creations(ctx: FileContext) -> None:
    """One pass over the file, so that rules ask in constant time."""
    for stmt in ctx.statements:
        first = stmt.kw(0)
        if first == "CREATE":
            _add(ctx._created, stmt, _created(stmt))
        elif first == "ALTER":
            _add(ctx._created, stmt, _renamed(ctx, stmt))
        elif first == "DROP":
            for dropped in _drops(stmt):
                _add(ctx._dropped, stmt, dropped)


def _add(made: Made, stmt: Stmt, entry: tuple[ObjectKind, ObjectName] | None) -> None:
    if entry is not None:
        kind, name = entry
        made.setdefault((kind, name.name), []).append((stmt.index, name))


def _object(stmt: Stmt) -> tuple[ObjectKind, int] | None:
    """The kind of object a CREATE/DROP/ALTER names, and the index after its keyword."""
    i = 1
    while stmt.kw(i) in _MODIFIERS:
        i += 1
    kind = _OBJECTS.get(stmt.kw(i))
    if kind is None:
        return None
    return ("table" if stmt.kw(i - 1) == "MATERIALIZED" else kind), i + 1


def _created(stmt: Stmt) -> tuple[ObjectKind, ObjectName] | None:
    found = _object(stmt)
    if found is None:
        return None
    name = stmt.name_from(found[1])
    return (found[0], name) if name is not None else None


def _drops(stmt: Stmt) -> list[tuple[ObjectKind, ObjectName]]:
    """``DROP <kind> [CONCURRENTLY] [IF EXISTS] a, b [CASCADE]``: every name."""
    found = _object(stmt)
    first = stmt.name_from(found[1]) if found is not None else None
    if found is None or first is None:
        return []
    names = (stmt.name_at(part.start) for part in Span(stmt, first.start, len(stmt)).split())
    return [(found[0], name) for name in names if name is not None]


def _renamed(ctx: FileContext, stmt: Stmt) -> tuple[ObjectKind, ObjectName] | None:
    """``ALTER TABLE|INDEX new_thing RENAME TO other``: other is new too."""
    found = _object(stmt)
    if found is None or found[0] not in ("table", "index"):
        return None
    old = stmt.name_from(found[1])
    if old is None or not stmt.starts_with("RENAME", "TO", at=old.end):
        return None
    new = stmt.name_at(old.end + 2)
    return (found[0], new) if new is not None and ctx.created_before(stmt, found[0], old) else None
