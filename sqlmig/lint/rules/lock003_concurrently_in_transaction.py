"""A `CONCURRENTLY` operation inside `BEGIN ... COMMIT`, a DO block or a function: it fails.

## What it catches

`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY` (PostgreSQL
12+) and `ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY` (14+) where PostgreSQL refuses
them:

- between an explicit `BEGIN` (or `START TRANSACTION`) and its `COMMIT`/`ROLLBACK`;
- in a DO block's body, also as dynamic SQL (`EXECUTE 'CREATE INDEX CONCURRENTLY ...'`);
- in the body of a function or procedure (`AS $$ ... $$`), where it fails when called.

Not reported: a `CONCURRENTLY` statement at the top level of a file. sqlmig sees it and runs
the file in segments, that statement alone in autocommit, without being told (and so does a
`-- sqlmig:no-transaction` file outside its explicit `BEGIN ... COMMIT` blocks). Also not
reported: `REFRESH MATERIALIZED VIEW CONCURRENTLY`, which PostgreSQL runs in a transaction.

## Why it hurts

A concurrent build or drop works in several transactions of its own and waits for the others
in between, so PostgreSQL refuses it in a transaction block (`ERROR: CREATE INDEX
CONCURRENTLY cannot run inside a transaction block`) and in any function or DO block, even
through `EXECUTE` (`... cannot be executed from a function`). The migration fails at deploy
time, every time; wrapping it in a DO block to add an existence check does not help.

## Example

```sql
BEGIN;
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
COMMIT;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'orders_status_idx') THEN
        EXECUTE 'CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status)';
    END IF;
END $$;
```

## Use instead

```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
```

at the top level of the migration, outside `BEGIN ... COMMIT`: sqlmig runs it alone, outside
any transaction (put the transactional part of the change in another migration, or let
sqlmig run the file in segments). Use `IF NOT EXISTS` / `IF EXISTS` as the guard instead of a
DO block.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt, scan
from sqlmig.lint.plpgsql import split_body
from sqlmig.lint.rule import Finding, Rule
from sqlmig.sql.kinds import is_transactional
from sqlmig.sql.lexer import SplitError


class ConcurrentlyInTransaction(Rule):
    id = "LOCK003"
    slug = "concurrently-in-transaction"
    hint = (
        "run it at the top level of the migration, outside BEGIN ... COMMIT: sqlmig runs a "
        "CONCURRENTLY statement alone, outside any transaction"
    )
    starts = ("CREATE", "DROP", "REINDEX", "ALTER", "EXECUTE")

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        if stmt.is_routine:
            yield from self._routine(stmt, ctx)
        elif stmt.in_do or stmt.explicit_transaction:
            found = _concurrent(stmt, stmt.transactional, dynamic=stmt.in_do)
            if found is not None:
                kws, at, how = found
                where = "in a DO block" if stmt.in_do else "inside BEGIN ... COMMIT"
                yield self.finding(ctx, stmt, _message(kws, where + how), at=at)

    def _routine(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        """A function or procedure whose dollar-quoted body runs a CONCURRENTLY statement."""
        as_ = stmt.find("AS", depth=0)
        if as_ is None or stmt.kind(as_ + 1) != "dollar":
            return
        body = stmt.word(as_ + 1)
        tag = body.text.index("$", 1) + 1
        try:
            tokens = scan(stmt.source, body.offset + tag, body.end - tag)
        except SplitError:
            return
        for part in split_body(tokens):
            start = tokens.offsets[part.start]
            end = tokens.offsets[part.end - 1] + len(tokens.texts[part.end - 1])
            sql = stmt.source[start:end]
            inner = Stmt(stmt.source, sql, start, tokens.cut(part.start, part.end), ctx.lines)
            found = _concurrent(inner, is_transactional(sql), dynamic=True)
            if found is not None:
                kws, at, how = found
                message = _message(kws, "in a function body" + how)
                line, column = inner.position(at)
                finding = self.finding(ctx, stmt, message, hint=_FUNCTION_HINT)
                yield replace(finding, line=line, column=column)


_FUNCTION_HINT = (
    "a function or procedure cannot run CONCURRENTLY statements, not even through EXECUTE: "
    "put the statement at the top level of a migration"
)


def _concurrent(
    stmt: Stmt, transactional: bool, *, dynamic: bool
) -> tuple[tuple[str, ...], int, str] | None:
    """(the words of the CONCURRENTLY statement, the index to report, how it runs) when
    ``stmt`` runs one: itself, or as dynamic SQL (``EXECUTE 'CREATE INDEX CONCURRENTLY ...'``,
    ``EXECUTE format('...', ...)`` in PL/pgSQL: ``dynamic``). REFRESH MATERIALIZED VIEW
    CONCURRENTLY is transactional."""
    if dynamic and stmt.kw(0) == "EXECUTE":
        literal = next((i for i in range(len(stmt)) if stmt.kind(i) in ("string", "dollar")), None)
        kws = _dynamic(stmt.word(literal).value) if literal is not None else None
        return (kws, literal, ", through EXECUTE") if kws and literal is not None else None
    if transactional or "CONCURRENTLY" not in stmt.kws:
        return None
    return stmt.kws, stmt.kws.index("CONCURRENTLY"), ""


def _dynamic(sql: str | None) -> tuple[str, ...] | None:
    """The words of dynamic SQL (an EXECUTE'd literal) that runs a CONCURRENTLY statement."""
    sql = (sql or "").strip()
    if not sql or is_transactional(sql):
        return None
    try:
        kws = tuple(scan(sql, 0, len(sql)).kws)
    except SplitError:
        return None
    return kws if "CONCURRENTLY" in kws else None


def _message(kws: tuple[str, ...], where: str) -> str:
    """``CREATE INDEX ... CONCURRENTLY in a DO block: PostgreSQL refuses it ...``."""
    if "DETACH" in kws:
        what = "DETACH PARTITION"
    elif kws[:1] == ("REINDEX",):
        what = "REINDEX"
    else:
        what = f"{kws[0] if kws else ''} INDEX"
    return (
        f"{what} ... CONCURRENTLY {where}: PostgreSQL refuses it in a transaction block, a DO "
        "block or a function, so the migration fails"
    )
