"""Lint suppressions: ``-- sqlmig:ignore RULE[,RULE] reason`` for one statement and
``-- sqlmig:ignore-file RULE[,RULE] reason`` (top of the file) for the whole file.

Where a ``-- sqlmig:ignore`` comment applies: on its own line(s) before a statement, to that
statement; after code on the line where a statement ends (``...; -- sqlmig:ignore ...``), to
that statement; inside a statement (between its words, or in a DO body), to that statement.
A statement's findings include those of the statements in its DO body. The reason is required:
a suppression without one is a file error, like every malformed directive.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Final

from sqlmig.errors import MigrationFileError
from sqlmig.files import RULE_ID_RE
from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.sql.lexer import SplitError, iter_tokens, tokenize

IGNORE_RE: Final = re.compile(r"--[ \t]*(?i:sqlmig):ignore(?![-\w])([^\n]*)")
_NOT_A_COMMENT: Final = -1


@dataclass(frozen=True, slots=True)
class Suppression:
    """``statement`` is the index of the file statement it covers; None: the whole file."""

    rules: tuple[str, ...]
    reason: str
    line: int
    column: int
    statement: int | None

    @property
    def directive(self) -> str:
        return "sqlmig:ignore" if self.statement is not None else "sqlmig:ignore-file"


class SuppressionError(MigrationFileError):
    """A malformed ``-- sqlmig:ignore`` (no reason, a bad rule ID); ``line``/``column`` 1-based."""

    def __init__(self, message: str, hint: str, line: int, column: int) -> None:
        super().__init__(message, hint)
        self.line = line
        self.column = column


def suppressions(ctx: FileContext) -> list[Suppression]:
    """Every suppression of the file: ignore-file ones first, then statement ones in order."""
    out = [_file_level(ctx, s.rules, s.reason, s.line) for s in ctx.directives.ignore_file]
    starts = [s.offset for s in ctx.top]
    for match in IGNORE_RE.finditer(ctx.text):
        target = _target(ctx, starts, match.start())
        if target == _NOT_A_COMMENT:
            continue  # inside a string or a function body: text, not a comment
        line, column = ctx.position(match.start())
        rules, reason = _parse(match.group(1), line, column)
        out.append(Suppression(rules, reason, line, column, target))
    return out


def _file_level(ctx: FileContext, rules: tuple[str, ...], reason: str, line: int) -> Suppression:
    start = ctx.lines.offset(line)
    end = ctx.text.find("\n", start)
    dash = ctx.text.find("--", start, len(ctx.text) if end < 0 else end)
    return Suppression(rules, reason, line, dash - start + 1 if dash >= 0 else 1, None)


def _parse(arg: str, line: int, column: int) -> tuple[tuple[str, ...], str]:
    rules_text, _, reason = arg.strip().replace("\t", " ").partition(" ")
    hint = "write -- sqlmig:ignore RULE[,RULE] <why this statement is safe>"
    if not rules_text:
        raise SuppressionError("sqlmig:ignore needs rule IDs and a reason", hint, line, column)
    rules = tuple(rules_text.split(","))
    for rule in rules:
        if not RULE_ID_RE.fullmatch(rule):
            raise SuppressionError(
                f"sqlmig:ignore: {rule!r} is not a rule ID like LOCK001", hint, line, column
            )
    if not reason.strip():
        raise SuppressionError(
            "sqlmig:ignore needs a reason after the rule IDs", hint, line, column
        )
    return rules, reason.strip()


def _target(ctx: FileContext, starts: list[int], pos: int) -> int | None:
    """The statement a suppression comment at ``pos`` covers; None when no statement follows;
    ``_NOT_A_COMMENT`` when ``pos`` is inside a string or a body rather than in a comment."""
    i = bisect_right(starts, pos) - 1
    if i >= 0:
        stmt = ctx.top[i]
        end = stmt.offset + len(stmt.sql)
        if pos < end:
            return i if _is_comment(stmt, pos) else _NOT_A_COMMENT
        if end > ctx.text.rfind("\n", 0, pos):
            return i  # after code on the line where statement i ends
    return i + 1 if i + 1 < len(ctx.top) else None


def _is_comment(stmt: Stmt, pos: int) -> bool:
    """Whether a comment starts at ``pos`` inside ``stmt`` (or inside its DO body)."""
    for kind, text, offset in iter_tokens(stmt.source, stmt.offset):
        if offset == pos:
            return kind == "comment"
        end = offset + len(text)
        if offset < pos < end:
            return kind == "dollar" and stmt.kw(0) == "DO" and _in_body_comment(text, pos - offset)
    return False


def _in_body_comment(quoted: str, pos: int) -> bool:
    tag = quoted.index("$", 1) + 1
    try:
        tokens = tokenize(quoted[tag:-tag])
    except SplitError:
        return False
    return any(t.offset == pos - tag and t.kind == "comment" for t in tokens)
