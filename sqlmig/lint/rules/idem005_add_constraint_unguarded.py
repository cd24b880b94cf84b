"""`ADD CONSTRAINT` / `ADD PRIMARY KEY` with no guard: a re-run fails on the existing constraint.

## What it catches

Every `ALTER TABLE ... ADD CONSTRAINT name ...` action (CHECK, UNIQUE, PRIMARY KEY, FOREIGN
KEY, EXCLUDE, `... USING INDEX`, with or without `NOT VALID`), every unnamed `ADD PRIMARY KEY`,
`ADD UNIQUE`, `ADD CHECK`, `ADD FOREIGN KEY`, `ADD EXCLUDE`, and `ALTER DOMAIN ... ADD
CONSTRAINT`, including inside a DO block, on tables old or created earlier in the file.
PostgreSQL has no `ADD CONSTRAINT IF NOT EXISTS`, and `ALTER TABLE IF EXISTS` only guards the
table.

Not reported: a DO block that checks `pg_constraint` (or `information_schema`) first or catches
`duplicate_object` / `duplicate_table` / `invalid_table_definition`; a constraint that an
earlier statement or action drops by the same name on the same table (`DROP CONSTRAINT IF
EXISTS c`, also `t_pkey` for an unnamed primary key); a table the file drops earlier (and so
re-creates) or a temporary table it created.

## Why it hurts

Re-run after a partial failure, a named constraint fails with `constraint "orders_user_fk" for
relation "orders" already exists` (42710; `relation ... already exists`, 42P07, for UNIQUE and
PRIMARY KEY, whose index takes the name), and a second primary key with `multiple primary keys
for table "orders" are not allowed` (42P16). An unnamed CHECK, UNIQUE or FOREIGN KEY does not
fail: it is added again as `orders_user_id_fkey1`, so every re-run leaves one more duplicate
constraint (and, for UNIQUE, one more unique index to maintain on every write). A failed
`VALIDATE CONSTRAINT` also leaves the NOT VALID constraint behind, so the file cannot simply
be re-run (strong_migrations #271).

## Example

```sql
ALTER TABLE orders
    ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
```

## Use instead

```sql
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_user_fk;
ALTER TABLE orders
    ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
```

or, to keep an existing constraint:

```sql
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conname = 'orders_user_fk' AND conrelid = 'orders'::regclass) THEN
        ALTER TABLE orders
            ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
    END IF;
END
$$;
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._idem import constraint_start, fresh_table, guarded, sql

_KINDS: Final = {
    "PRIMARY": "PRIMARY KEY",
    "UNIQUE": "UNIQUE",
    "CHECK": "CHECK",
    "FOREIGN": "FOREIGN KEY",
    "EXCLUDE": "EXCLUDE",
}


class AddConstraintUnguarded(Rule):
    id = "IDEM005"
    slug = "add-constraint-unguarded"
    hint = (
        "DROP CONSTRAINT IF EXISTS c first, or DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM "
        "pg_constraint WHERE conname = 'c' AND conrelid = 't'::regclass) THEN ALTER TABLE t "
        "ADD CONSTRAINT c ...; END IF; END $$;"
    )
    starts = ("ALTER",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        dropped: dict[str, list[ObjectName]] = {}  # constraint -> tables it was dropped from
        for stmt in ctx.starting_with(*self.starts):
            if stmt.starts_with("ALTER", "DOMAIN"):
                yield from self._domain(stmt, ctx)
                continue
            alter = stmt.alter_table()
            if alter is None:
                continue
            table = alter.name
            for action in alter.actions:
                name = _dropped_constraint(stmt, action)
                if name is not None:
                    dropped.setdefault(name, []).append(table)
                    continue
                added = _added_constraint(stmt, action)
                if added is None or guarded(ctx, stmt) or fresh_table(ctx, stmt, table):
                    continue
                at, name = added
                key = name
                if name is None and stmt.kw(at) == "PRIMARY":
                    key = f"{table.name}_pkey"  # the name PostgreSQL gives it
                if key is not None and any(t.same(table) for t in dropped.get(key, ())):
                    continue
                yield self._finding(ctx, stmt, table, at, name)

    def _finding(
        self, ctx: FileContext, stmt: Stmt, table: ObjectName, at: int, name: str | None
    ) -> Finding:
        t = sql(table)
        if name is not None:
            message = (
                f"ADD CONSTRAINT {sql(name)} on {t} fails when the migration is re-run after a "
                "partial failure (the constraint already exists); PostgreSQL has no ADD "
                "CONSTRAINT IF NOT EXISTS"
            )
            hint = (
                f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {sql(name)}; before it, or guard it: "
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = "
                f"'{name}' AND conrelid = '{t}'::regclass) THEN ALTER TABLE {t} ADD "
                f"CONSTRAINT {sql(name)} ...; END IF; END $$;"
            )
            return self.finding(ctx, stmt, message, at=at, hint=hint)
        kind = _KINDS[stmt.kw(at)]
        if kind == "PRIMARY KEY":
            effect = "fails (multiple primary keys are not allowed)"
        else:
            effect = "adds it again under a new name (a duplicate constraint)"
        message = (
            f"unnamed ADD {kind} on {t}: a re-run of the migration {effect}; name the "
            "constraint and guard it"
        )
        hint = (
            f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS <name>; then ALTER TABLE {t} ADD "
            f"CONSTRAINT <name> {kind} ...; (or a DO block that checks pg_constraint)"
        )
        return self.finding(ctx, stmt, message, at=at, hint=hint)

    def _domain(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        domain = stmt.name_at(2)
        at = stmt.find("ADD", "CONSTRAINT", depth=0)
        if domain is None or at is None or guarded(ctx, stmt):
            return
        name = stmt.name(at + 2)
        yield self.finding(
            ctx,
            stmt,
            f"ALTER DOMAIN {sql(domain)} ADD CONSTRAINT {sql(name)} fails when the migration "
            "is re-run after a partial failure (the constraint already exists)",
            at=at + 2,
            hint=(
                f"ALTER DOMAIN {sql(domain)} DROP CONSTRAINT IF EXISTS {sql(name)}; before it, "
                "or a DO block that checks pg_constraint"
            ),
        )


def _added_constraint(stmt: Stmt, action: Span) -> tuple[int, str | None] | None:
    """(index to report, constraint name or None) of an ``ADD <table constraint>`` action."""
    i = action.start
    if stmt.kw(i) != "ADD" or not constraint_start(stmt.kw(i + 1), stmt.kw(i + 2)):
        return None
    if stmt.kw(i + 1) != "CONSTRAINT":
        return i + 1, None
    name = stmt.name(i + 2)
    return None if name is None else (i + 2, name)


def _dropped_constraint(stmt: Stmt, action: Span) -> str | None:
    """The name of a ``DROP CONSTRAINT [IF EXISTS] name`` action."""
    if not stmt.starts_with("DROP", "CONSTRAINT", at=action.start):
        return None
    i = action.start + 2
    i += 2 if stmt.starts_with("IF", "EXISTS", at=i) else 0
    return stmt.name(i)
