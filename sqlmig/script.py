"""A script is one direction of a migration, split and cut into the segments it will run as.

Pure: no database. ``mode`` is ``transaction`` when every statement may run inside a
transaction block (the whole file then runs in one transaction with its history row), else
``segmented``: each run of consecutive ordinary statements in one transaction, each statement
PostgreSQL refuses inside a transaction block alone in autocommit. ``-- sqlmig:no-transaction``
makes every statement its own autocommit segment.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, NamedTuple

from sqlmig.checksum import statement_hash
from sqlmig.errors import MigrationFileError
from sqlmig.files import Directives, SqlFile, parse_directives

if TYPE_CHECKING:
    from sqlmig.sql.split import Statement

# sqlmig.sql is imported where a script is split: compiling its lexer costs more than the rest
# of the CLI, and file-only commands (check on every commit) never split.

_DROPS_PREPARED: Final = re.compile("deallocate|discard", re.IGNORECASE)

Mode = Literal["transaction", "segmented"]
Direction = Literal["up", "down"]


class Segment(NamedTuple):
    """Statements ``start``..``end`` (exclusive) of a script, in one transaction or alone."""

    start: int
    end: int
    transactional: bool


class Script:
    """One direction of a migration; split (once, when first needed) into statements and
    segments. A plain class: a dataclass costs about a millisecond to define, on every start."""

    def __init__(self, path: str, text: str, directives: Directives, direction: Direction) -> None:
        self.path = path  # shown in messages; a file path, or where in history the text came from
        self.text = text
        self.directives = directives
        self.direction = direction

    def __repr__(self) -> str:
        return f"Script({self.path!r}, {self.direction})"

    @classmethod
    def from_file(cls, f: SqlFile, direction: Direction) -> Script:
        return cls(str(f.path), f.text, f.directives, direction)

    @classmethod
    def from_history(cls, label: str, text: str, direction: Direction) -> Script:
        path = f"<{label}.{direction}.sql stored in history>"
        return cls(path, text, parse_directives(text, Path(path), direction), direction)

    @cached_property
    def statements(self) -> list[Statement]:
        from sqlmig.sql.split import SplitError, split_statements

        try:
            return split_statements(self.text)
        except SplitError as exc:
            raise MigrationFileError(
                f"{self.path}:{exc.line}:{exc.column}: {exc.message}", exc.hint
            ) from None

    @cached_property
    def mode(self) -> Mode:
        if self.directives.no_transaction or not all(s.transactional for s in self.statements):
            return "segmented"
        return "transaction"

    @cached_property
    def segments(self) -> list[Segment]:
        stmts = self.statements
        if self.mode == "transaction":
            return [Segment(0, len(stmts), True)] if stmts else []
        if self.directives.no_transaction:
            return [Segment(i, i + 1, False) for i in range(len(stmts))]
        out: list[Segment] = []
        for i, stmt in enumerate(stmts):
            if stmt.transactional and out and out[-1].transactional and out[-1].end == i:
                out[-1] = Segment(out[-1].start, i + 1, True)
            else:
                out.append(Segment(i, i + 1, stmt.transactional))
        return out

    @cached_property
    def may_drop_prepared(self) -> bool:
        """Whether the text mentions ``DEALLOCATE`` or ``DISCARD`` (a mention in a comment or a
        string counts too), so that running it may drop the session's prepared statements."""
        return _DROPS_PREPARED.search(self.text) is not None

    def hashes(self, upto: int) -> list[str]:
        return [statement_hash(s.sql) for s in self.statements[:upto]]

    def where(self, stmt: Statement) -> str:
        return f"{self.path}:{stmt.line}:{stmt.column}"

    @cached_property
    def _control(self) -> Statement | None:
        """The first BEGIN, COMMIT, ... of the file, found once (checked when planned and run)."""
        from sqlmig.sql.kinds import is_transaction_control

        return next((s for s in self.statements if is_transaction_control(s.sql)), None)

    def check_runnable(self) -> None:
        """Refuse explicit transaction control in a file whose transaction sqlmig owns."""
        stmt = None if self.directives.no_transaction else self._control
        if stmt is None:
            return
        word = stmt.sql.split(None, 1)[0].upper()
        raise MigrationFileError(
            f"{self.where(stmt)}: {word} in a migration: sqlmig owns the transaction "
            "(the whole file runs in one transaction, or in segments when needed)",
            "remove it, or put '-- sqlmig:no-transaction' at the top of the file "
            "to run each statement in autocommit and control transactions yourself",
        )


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a 0-based character offset."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column
