"""VACUUM FULL, CLUSTER, and REINDEX/DETACH/REFRESH without CONCURRENTLY lock for their whole run.

## What it catches

Also inside DO blocks:

- `VACUUM FULL ...`, `VACUUM (FULL [true]) ...`: rewrites each table under ACCESS EXCLUSIVE;
- `CLUSTER [VERBOSE] t [USING i]`, `CLUSTER` (every table): a rewrite in index order under
  ACCESS EXCLUSIVE; `REPACK` without `CONCURRENTLY` (PostgreSQL 19) likewise;
- `REINDEX INDEX|TABLE|SCHEMA|DATABASE|SYSTEM` without `CONCURRENTLY` (neither the keyword
  nor the `(CONCURRENTLY)` option of PostgreSQL 14+);
- `ALTER TABLE parent DETACH PARTITION p` without `CONCURRENTLY` (or `FINALIZE`);
- `REFRESH MATERIALIZED VIEW v` without `CONCURRENTLY`.

Not reported: objects created earlier in the same file (refreshing a materialized view just
created `WITH NO DATA` is the normal way to fill it), `REFRESH ... WITH NO DATA` (it runs no
query: it only empties the view), plain `VACUUM` / `ANALYZE` (they block no reads or writes),
and `ALTER TABLE ... CLUSTER ON` (it only records the index).

## Why it hurts

- `VACUUM FULL` and `CLUSTER` copy the whole table and rebuild its indexes holding an ACCESS
  EXCLUSIVE lock: no reads, no writes for the duration, and twice the disk space.
- `REINDEX` blocks writes to the table (SHARE lock) and takes an ACCESS EXCLUSIVE lock on each
  index it rebuilds, so queries that would use the index wait too.
- `DETACH PARTITION` takes an ACCESS EXCLUSIVE lock on the parent: every query on the
  partitioned table waits, and queues behind any long transaction touching it.
- `REFRESH MATERIALIZED VIEW` takes an ACCESS EXCLUSIVE lock on the view and runs its whole
  query: readers of the view wait until the refresh ends.

## Example

```sql
VACUUM FULL orders;
REINDEX TABLE orders;
ALTER TABLE events DETACH PARTITION events_2023;
REFRESH MATERIALIZED VIEW order_totals;
```

## Use instead

```sql
REINDEX TABLE CONCURRENTLY orders;                              -- PostgreSQL 12+
ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;   -- PostgreSQL 14+, no transaction
REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;            -- needs a unique index on the view
```

For bloat, use pg_repack (or `REPACK (CONCURRENTLY)` on PostgreSQL 19) instead of
`VACUUM FULL`/`CLUSTER`, and run maintenance as an operator task, not in a migration. sqlmig
runs a `CONCURRENTLY` statement alone, outside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext, ObjectKind
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import existing_table

_TRUE: Final = frozenset({"true", "on", "1", "yes", "t", "y"})
_VACUUM_WORDS: Final = frozenset({"FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"})
_REINDEX_KINDS: Final[dict[str, ObjectKind | None]] = {
    "INDEX": "index",
    "TABLE": "table",
    "SCHEMA": None,
    "DATABASE": None,
    "SYSTEM": None,
}


class BlockingMaintenance(Rule):
    id = "LOCK015"
    slug = "blocking-maintenance"
    hint = (
        "use the CONCURRENTLY form (REINDEX, DETACH PARTITION, REFRESH MATERIALIZED VIEW), "
        "pg_repack instead of VACUUM FULL/CLUSTER; keep maintenance out of migrations"
    )
    starts = ("VACUUM", "CLUSTER", "REPACK", "REINDEX", "REFRESH", "ALTER")

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        first = stmt.kw(0)
        if first == "ALTER":
            yield from self._detach(stmt, ctx)
        elif first == "VACUUM":
            yield from self._vacuum(stmt, ctx)
        elif first in ("CLUSTER", "REPACK"):
            yield from self._cluster(stmt, ctx)
        elif first == "REINDEX":
            yield from self._reindex(stmt, ctx)
        elif stmt.starts_with("REFRESH", "MATERIALIZED", "VIEW"):
            yield from self._refresh(stmt, ctx)

    def _vacuum(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        options, i = _options(stmt, 1)
        full = options.get("FULL")
        if full is None:
            while stmt.kw(i) in _VACUUM_WORDS:
                full = i if stmt.kw(i) == "FULL" else full
                i += 1
        if full is None or _all_new(stmt, ctx, _names(Span(stmt, i, len(stmt)))):
            return
        yield self.finding(
            ctx,
            stmt,
            f"VACUUM FULL rewrites {_which(stmt, i)} under an ACCESS EXCLUSIVE lock: "
            "no reads or writes until it ends",
            at=full,
            hint="use pg_repack (or REPACK (CONCURRENTLY) on PostgreSQL 19) as an operator "
            "task, not VACUUM FULL in a migration",
        )

    def _cluster(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        options, i = _options(stmt, 1)
        if "CONCURRENTLY" in options or stmt.kw(i) == "CONCURRENTLY":
            return
        i += 1 if stmt.kw(i) == "VERBOSE" else 0
        name = stmt.name_at(i)
        if name is not None and stmt.kw(name.end) == "ON":  # CLUSTER index ON table
            name = stmt.name_at(name.end + 1)
            i = name.start if name is not None else i
        if _all_new(stmt, ctx, [name] if name is not None else []):
            return
        yield self.finding(
            ctx,
            stmt,
            f"{stmt.kw(0)} rewrites {_which(stmt, i)} under an ACCESS EXCLUSIVE lock: "
            "no reads or writes until it ends",
            hint="use pg_repack (or REPACK (CONCURRENTLY) on PostgreSQL 19) as an operator "
            "task, not in a migration",
        )

    def _reindex(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        options, i = _options(stmt, 1)
        kind_word = stmt.kw(i)
        if kind_word not in _REINDEX_KINDS or "CONCURRENTLY" in options:
            return
        if stmt.kw(i + 1) == "CONCURRENTLY":
            return
        kind = _REINDEX_KINDS[kind_word]
        name = stmt.name_at(i + 1)
        if kind is not None and name is not None and ctx.created_before(stmt, kind, name):
            return
        what = f"{kind_word} {name}" if name is not None else kind_word
        hint = (
            "REINDEX SYSTEM cannot run concurrently: an operator task, not a migration"
            if kind_word == "SYSTEM"
            else f"REINDEX {what} with CONCURRENTLY (PostgreSQL 12+; sqlmig runs it alone, "
            "outside a transaction)"
        )
        yield self.finding(
            ctx,
            stmt,
            f"REINDEX {what} without CONCURRENTLY blocks writes to the table and reads "
            "through each index it rebuilds",
            hint=hint,
        )

    def _detach(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        alter = existing_table(stmt, ctx)
        if alter is None:
            return
        for action in alter.actions:
            if not action.starts_with("DETACH", "PARTITION"):
                continue
            part = action.name_from(action.start + 2)
            after = part.end if part is not None else action.start + 2
            if action.kw(after) in ("CONCURRENTLY", "FINALIZE"):
                continue
            yield self.finding(
                ctx,
                stmt,
                f"DETACH PARTITION {part} takes an ACCESS EXCLUSIVE lock on {alter.name}: "
                "every query on the partitioned table waits",
                at=action.start,
                hint=f"ALTER TABLE {alter.name} DETACH PARTITION {part} CONCURRENTLY "
                "(PostgreSQL 14+, outside a transaction)",
            )

    def _refresh(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        at = stmt.match("REFRESH MATERIALIZED VIEW")
        if at is None or stmt.kw(at) == "CONCURRENTLY" or stmt.has_words("WITH", "NO", "DATA"):
            return
        name = stmt.name_at(at)
        if name is None or ctx.created_before(stmt, "table", name):
            return
        yield self.finding(
            ctx,
            stmt,
            f"REFRESH MATERIALIZED VIEW {name} locks the view (ACCESS EXCLUSIVE) while its "
            "query runs: its readers wait",
            hint=f"REFRESH MATERIALIZED VIEW CONCURRENTLY {name} (needs a unique index on it)",
        )


def _options(stmt: Stmt, i: int) -> tuple[dict[str, int], int]:
    """The enabled options of a `(OPTION [value], ...)` list at word ``i`` (keyword -> index),
    and the index after it; ``({}, i)`` when there is no list."""
    if stmt.kw(i) != "(":
        return {}, i
    close = stmt.group_end(i)
    enabled = {}
    for option in Span(stmt, i + 1, close).split():
        value = stmt.word(option.start + 1) if len(option) > 1 else None
        if value is None or (value.value or value.text).lower() in _TRUE:
            enabled[stmt.kw(option.start)] = option.start
    return enabled, close + 1


def _names(span: Span) -> list[ObjectName]:
    """The tables of a `t [(cols)], ...` list."""
    return [name for part in span.split() if (name := span.name_at(part.start)) is not None]


def _all_new(stmt: Stmt, ctx: FileContext, tables: list[ObjectName]) -> bool:
    """True when tables are named and all were created earlier in this file."""
    return bool(tables) and all(ctx.created_before(stmt, "table", t) for t in tables)


def _which(stmt: Stmt, i: int) -> str:
    name = stmt.name_at(i)
    return str(name) if name is not None else "every table"
