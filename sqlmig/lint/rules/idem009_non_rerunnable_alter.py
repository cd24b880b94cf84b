"""`RENAME` and `ATTACH`/`DETACH PARTITION` with no guard: a re-run fails on what the first run did.

## What it catches

- renames: `ALTER TABLE|INDEX|VIEW|MATERIALIZED VIEW|SEQUENCE|FOREIGN TABLE name RENAME TO`
  without `IF EXISTS`, and every `RENAME [COLUMN] a TO b` and `RENAME CONSTRAINT a TO b`
  (`ALTER TABLE IF EXISTS` does not guard these: it is about the table); renames of types,
  enum values (`RENAME VALUE`), attributes, domains, schemas, functions, procedures,
  triggers and other objects, which have no `IF EXISTS` at all;
- `ALTER TABLE ... ATTACH PARTITION` and `DETACH PARTITION` (also `CONCURRENTLY`/`FINALIZE`).

Including inside a DO block. Not reported: a DO block that checks the catalog first
(`information_schema.columns`, `pg_constraint`, `pg_inherits`, `to_regclass(...)`) or catches
the error; a column or constraint rename or a partition change on a table the file drops
earlier (and so re-creates), or on a partition it drops earlier. `ALTER INDEX ... ATTACH
PARTITION` is not reported: attaching an attached index again does nothing.

## Why it hurts

These statements change what the next run of them looks for. Re-run after a partial failure,
`RENAME COLUMN email TO email_address` fails with `column "email" does not exist` (42703), a
table rename with `relation "orders" does not exist` (42P01), `ATTACH PARTITION` with
`"events_2024" is already a partition` (42809), `DETACH PARTITION` with `relation
"events_2023" is not a partition of relation "events"` (42P01). The deploy stays stuck until
someone edits the history by hand, and the half-applied state it leaves is the confusing one.

## Example

```sql
ALTER TABLE users RENAME COLUMN email TO email_address;
ALTER TABLE events ATTACH PARTITION events_2024
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
```

## Use instead

```sql
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_name = 'users' AND column_name = 'email') THEN
        ALTER TABLE users RENAME COLUMN email TO email_address;
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS events_2024 PARTITION OF events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
```

A table, index, view or sequence rename: `ALTER TABLE IF EXISTS old_name RENAME TO new_name`.
A partition attach of an existing table: check `pg_inherits` in a DO block first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import AlterTable, ObjectName, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._idem import fresh_table, guarded, sql

# ALTER <kind> [IF EXISTS] name ... RENAME TO: the kinds that take IF EXISTS.
_KIND: Final = "ALTER [MATERIALIZED|FOREIGN] TABLE|INDEX|VIEW|SEQUENCE"


class NonRerunnableAlter(Rule):
    id = "IDEM009"
    slug = "non-rerunnable-alter"
    hint = (
        "ALTER TABLE IF EXISTS old RENAME TO new; for columns, constraints and partitions a "
        "DO block that checks information_schema.columns / pg_constraint / pg_inherits first"
    )
    starts = ("ALTER",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        if guarded(ctx, stmt):
            return
        alter = stmt.alter_table()
        if alter is not None:
            for action in alter.actions:
                yield from self._table_action(stmt, ctx, alter, action.start)
            return
        rename = stmt.find("RENAME", depth=0)
        if rename is None:
            return
        relation = stmt.match(_KIND)
        if_exists = relation is not None and stmt.starts_with("IF", "EXISTS", at=relation)
        if if_exists and stmt.starts_with("RENAME", "TO", at=rename):
            return
        kind = " ".join(stmt.kws[1:relation]) if relation is not None else stmt.kw(1)
        name = stmt.name_from(relation if relation is not None else 2)
        yield self._rename(ctx, stmt, kind, name, rename, relation is not None)

    def _table_action(
        self, stmt: Stmt, ctx: FileContext, alter: AlterTable, at: int
    ) -> Iterator[Finding]:
        word, table = stmt.kw(at), alter.name
        if word == "RENAME":
            if stmt.starts_with("RENAME", "TO", at=at):
                if not alter.if_exists and not _swapped_in(ctx, stmt, table, at):
                    yield self._rename(ctx, stmt, "TABLE", table, at, True)
            elif not fresh_table(ctx, stmt, table):
                yield self._rename(ctx, stmt, "TABLE", table, at, True)
            return
        if word not in ("ATTACH", "DETACH") or stmt.kw(at + 1) != "PARTITION":
            return
        part = stmt.name_at(at + 2)
        if fresh_table(ctx, stmt, table) or fresh_table(ctx, stmt, part):
            return
        t, p = sql(table), sql(part)
        if word == "ATTACH":
            effect = f'"{part.name if part else p}" is already a partition'
            fix = (
                f"CREATE TABLE IF NOT EXISTS {p} PARTITION OF {t} FOR VALUES ...; or a DO block: "
                f"IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = '{p}'::regclass) "
                f"THEN ALTER TABLE {t} ATTACH PARTITION {p} ...; END IF;"
            )
        else:
            effect = f"{p} is not a partition of {t}"
            fix = (
                f"a DO block: IF EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = "
                f"to_regclass('{p}') AND inhparent = '{t}'::regclass) THEN ALTER TABLE {t} "
                f"DETACH PARTITION {p}; END IF;"
            )
        yield self.finding(
            ctx,
            stmt,
            f"{word} PARTITION {p} on {t} fails when the migration is re-run after it ran "
            f"({effect})",
            at=at,
            hint=fix,
        )

    def _rename(
        self,
        ctx: FileContext,
        stmt: Stmt,
        kind: str,
        name: ObjectName | None,
        at: int,
        takes_if_exists: bool,
    ) -> Finding:
        n = sql(name)
        target = stmt.kw(at + 1)
        if target == "TO":
            new = sql(stmt.name_at(at + 2))
            what = f"ALTER {kind} {n} RENAME TO {new}"
            effect = f"{n} no longer exists"
            fix = f"ALTER {kind} IF EXISTS {n} RENAME TO {new}"
            if not takes_if_exists:
                fix = f"a DO block that checks the catalog for {n} first"
        else:
            i = at + 2 if target in ("COLUMN", "CONSTRAINT", "VALUE", "ATTRIBUTE") else at + 1
            old = stmt.word(i).text if i < len(stmt) else "..."
            item = target.lower() if i == at + 2 else "column"
            what = f"ALTER {kind} {n} RENAME {item.upper()} {old}"
            effect = f"{item} {old} no longer exists"
            catalog = {
                "column": "information_schema.columns",
                "constraint": "pg_constraint",
                "value": "pg_enum",
            }.get(item, "the catalog")
            fix = (
                f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM {catalog} WHERE ...) THEN "
                f"{' '.join(stmt.sql.split())}; END IF; END $$;"
            )
        return self.finding(
            ctx,
            stmt,
            f"{what} fails when the migration is re-run after it ran ({effect})",
            at=at,
            hint=fix,
        )


def _swapped_in(ctx: FileContext, stmt: Stmt, table: ObjectName, at: int) -> bool:
    """``CREATE TABLE t_new ...; DROP TABLE t; ALTER TABLE t_new RENAME TO t``: on every run
    the file creates the table it renames and drops the name it takes, so the rename works."""
    new = stmt.name_at(at + 2)
    return ctx.created_before(stmt, "table", table) and ctx.dropped_before(stmt, "table", new)
