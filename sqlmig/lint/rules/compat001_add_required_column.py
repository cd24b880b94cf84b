"""`ADD COLUMN ... NOT NULL` without a `DEFAULT`: fails on any populated table.

## What it catches

`ALTER TABLE ... ADD [COLUMN] [IF NOT EXISTS] col type NOT NULL` (or `PRIMARY KEY`, which
implies NOT NULL) with no `DEFAULT`, or with `DEFAULT NULL`, in any action of a multi-action
`ALTER TABLE` and inside DO blocks (a guarded DO adds the column just the same). Not reported:
columns PostgreSQL fills itself (`serial`/`bigserial`/`smallserial`, `GENERATED ... AS
IDENTITY`, `GENERATED ALWAYS AS (...) STORED`), a table created earlier in the same file (it is
empty and no deployed code writes to it yet), and down files.

## Why it hurts

PostgreSQL fills an added column with its default in every existing row, NULL when there is
none, and then checks NOT NULL: on a table with a single row the statement fails with
`column "currency" of relation "orders" contains null values` (SQLSTATE 23502), after having
queued for its ACCESS EXCLUSIVE lock. It passes on the empty development and CI databases and
fails in production. Where the table happens to be empty, the application code still deployed
inserts rows without the new column and fails with a not-null violation until the new release
is out everywhere.

## Example

```sql
ALTER TABLE orders ADD COLUMN currency text NOT NULL;
```

## Use instead

```sql
-- PostgreSQL >= 11: a constant (or STABLE, e.g. now()) default is stored in the catalog,
-- no table rewrite, and old INSERTs get the default.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS currency text NOT NULL DEFAULT 'EUR';
```

Or add the column nullable, backfill it in batches, and make it NOT NULL afterwards through a
validated `CHECK (currency IS NOT NULL)` (see LOCK007).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._dest import added_column

_SERIALS: Final = frozenset({"SERIAL", "BIGSERIAL", "SMALLSERIAL", "SERIAL2", "SERIAL4", "SERIAL8"})


class AddRequiredColumn(Rule):
    id = "COMPAT001"
    slug = "add-required-column"
    applies_to_down = False
    hint = "give it a default (ADD COLUMN c type NOT NULL DEFAULT <constant>) or add it nullable"
    starts = ("ALTER",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        kws = stmt.kws
        if "ADD" not in kws or ("NULL" not in kws and "PRIMARY" not in kws):
            return
        alter = stmt.alter_table()
        if alter is None or ctx.created_before(stmt, "table", alter.name):
            return
        for action in alter.actions:
            column = required_column(action)
            if column is None:
                continue
            yield self.finding(
                ctx,
                stmt,
                f"ADD COLUMN {column} NOT NULL without a DEFAULT fails on {alter.name} as soon "
                "as it has a row (existing rows get NULL), and breaks INSERTs of deployed code",
                at=column.start,
                hint=f"ADD COLUMN {column} <type> NOT NULL DEFAULT <constant>, or add it "
                "nullable, backfill in batches, then SET NOT NULL via a validated CHECK",
            )


def required_column(action: Span) -> ObjectName | None:
    """The column an ``ADD [COLUMN]`` action adds as NOT NULL with nothing to fill it."""
    column = added_column(action)
    if column is None or action.kw(column.end) in _SERIALS:
        return None
    level = action.stmt.depth(action.start)
    required = action.find("NOT", "NULL", depth=level) or action.find("PRIMARY", "KEY", depth=level)
    if required is None or action.find("GENERATED", depth=level) is not None:
        return None
    default = action.find("DEFAULT", depth=level)
    while default is not None and action.kw(default - 1) == "SET":  # ON DELETE SET DEFAULT
        default = action.find("DEFAULT", start=default + 1, depth=level)
    if default is not None and action.kw(default + 1) != "NULL":
        return None
    return column
