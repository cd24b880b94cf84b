"""The rule API: subclass :class:`Rule` in one module under ``sqlmig/lint/rules/``.

A rule reads a :class:`~sqlmig.lint.context.FileContext` and yields :class:`Finding` values; it
never raises for bad SQL (an exception in a rule is a bug). The module docstring is the rule's
documentation (``sqlmig explain ID``) with the sections listed in :data:`DOC_SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Final

from sqlmig.config import Severity

if TYPE_CHECKING:
    from sqlmig.lint.context import FileContext
    from sqlmig.lint.model import Stmt

DOC_SECTIONS: Final = ("## What it catches", "## Why it hurts", "## Example", "## Use instead")


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation; ``line``/``column`` are 1-based and point at the offending word.

    ``statement`` is the index of the file statement it belongs to (the DO for a statement
    inside a DO body), so that ``-- sqlmig:ignore`` before that statement suppresses it; None
    for a finding about the whole file.
    """

    path: str
    line: int
    column: int
    rule: str
    slug: str
    severity: Severity
    message: str
    hint: str
    statement: int | None = field(default=None, compare=False)


class Rule:
    """Base class. Override :meth:`check_statement` (called for every statement, DO-body
    statements included) or :meth:`check` (the whole file, for rules that compare statements
    or look at the up/down pair)."""

    id: ClassVar[str]  # "IDEM001"
    slug: ClassVar[str]  # "create-table-without-if-not-exists"
    severity: ClassVar[Severity] = "error"  # the default; config lint.severity overrides it
    applies_to_down: ClassVar[bool] = True  # False: not run on .down.sql files (DEST, COMPAT)
    uses_partner: ClassVar[bool] = False  # reads ctx.partner: the partner's checksum is cached too
    hint: ClassVar[str] = ""  # the default hint: the safe rewrite
    # First words of the statements check_statement wants (("CREATE", "ALTER")); empty: every
    # statement. The engine then skips the others without calling the rule: keep it short.
    starts: ClassVar[tuple[str, ...]] = ()

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for stmt in ctx.starting_with(*self.starts) if self.starts else ctx.statements:
            yield from self.check_statement(stmt, ctx)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterable[Finding]:
        return ()

    def finding(
        self,
        ctx: FileContext,
        stmt: Stmt | None,
        message: str,
        *,
        at: int = 0,
        hint: str | None = None,
    ) -> Finding:
        """A finding at word ``at`` of ``stmt`` (its first word by default); ``stmt=None``
        reports on the whole file, at line 1, column 1."""
        line, column = stmt.position(at) if stmt is not None else (1, 1)
        return Finding(
            ctx.display,
            line,
            column,
            self.id,
            self.slug,
            self.severity,
            message,
            self.hint if hint is None else hint,
            stmt.top if stmt is not None else None,
        )
