"""`CREATE TABLE` with no primary key: duplicate rows, no replica identity for replication.

## What it catches

A `CREATE TABLE` (also `UNLOGGED`, `... AS SELECT`, inside a DO block) that declares no
`PRIMARY KEY`, neither on a column nor as a table constraint, when no later statement of the
same file adds one (`ALTER TABLE [ONLY] t ADD [CONSTRAINT c] PRIMARY KEY ...`, as pg_dump
writes it, or `ADD COLUMN id ... PRIMARY KEY`). Not reported: temporary tables, foreign
tables (they cannot have one), partitions (`PARTITION OF parent`, or a table the file then
`ATTACH`es as a partition: it takes the parent's key),
`(LIKE other INCLUDING ALL | INDEXES)` (copies the other table's key), and a table the same
file drops again (a staging table).

## Why it hurts

Without a primary key nothing stops duplicate rows, and nothing identifies a row: ORMs cannot
update or delete one object, and fixing duplicates later means a
`DELETE ... USING` by `ctid` before a unique index can even be built.

Logical replication (publications, Debezium and other CDC tools, blue/green upgrades over
logical replication) uses the primary key as the table's replica identity. A table without one
that is in a publication rejects every UPDATE and DELETE with `cannot update table "t"
because it does not have a replica identity and publishes updates`: the application breaks
the day someone turns replication on. `REPLICA IDENTITY FULL` works around it by logging and
comparing whole rows, at a large cost in WAL and apply time.

## Example

```sql
CREATE TABLE IF NOT EXISTS order_tags (
    order_id bigint NOT NULL REFERENCES orders (id),
    tag text NOT NULL
);
```

## Use instead

```sql
CREATE TABLE IF NOT EXISTS order_tags (
    order_id bigint NOT NULL REFERENCES orders (id),
    tag text NOT NULL,
    PRIMARY KEY (order_id, tag)
);
```

For an entity table: `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY` or
`id uuid PRIMARY KEY DEFAULT gen_random_uuid()`.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._conv import Table, added_column, added_constraint, table_of

Pending = dict[str, list[tuple[Stmt, Table, ObjectName]]]  # by the table's current name


class TableWithoutPrimaryKey(Rule):
    id = "CONV004"
    slug = "table-without-primary-key"
    severity = "warning"
    hint = (
        "declare a primary key: id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, or "
        "PRIMARY KEY (a, b) for a join table"
    )

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        pending: Pending = {}
        for stmt in ctx.starting_with("CREATE", "ALTER", "DROP"):
            if stmt.kw(0) == "CREATE":
                table = table_of(ctx, stmt)
                if table is not None and not _exempt(table):
                    pending.setdefault(table.name.name, []).append((stmt, table, table.name))
            elif stmt.kw(0) == "ALTER":
                _altered(stmt, pending)
            elif stmt.starts_with("DROP", "TABLE"):
                _dropped(stmt, pending)
        waiting = sorted((e for entries in pending.values() for e in entries), key=_order)
        for stmt, table, _ in waiting:
            yield self.finding(
                ctx,
                stmt,
                f"table {table.name} has no primary key: duplicate rows, and no replica "
                "identity for logical replication",
                at=table.at,
            )


def _order(entry: tuple[Stmt, Table, ObjectName]) -> int:
    return entry[0].index


def _exempt(table: Table) -> bool:
    if table.temporary or table.foreign or table.partition_of is not None:
        return True
    if any(c.kind == "PRIMARY" for c in table.constraints):
        return True
    if any(c.find("PRIMARY", "KEY") is not None for c in table.columns):
        return True
    return any(like.find("INCLUDING", "ALL|INDEXES") is not None for like in table.likes)


def _take(pending: Pending, name: ObjectName) -> list[tuple[Stmt, Table, ObjectName]]:
    """Remove and return the pending tables called ``name`` now."""
    entries = pending.get(name.name, [])
    taken = [e for e in entries if e[2].same(name)]
    pending[name.name] = [e for e in entries if not e[2].same(name)]
    return taken


def _altered(stmt: Stmt, pending: Pending) -> None:
    alter = stmt.alter_table()
    if alter is None:
        return
    for action in alter.actions:  # a partition takes its parent's key
        attached = action.name_from(action.start + 2) if action.starts_with("ATTACH") else None
        if attached is not None and action.kw(action.start + 1) == "PARTITION":
            _take(pending, attached)
    if alter.name.name not in pending:
        return
    if any(_adds_key(action) for action in alter.actions):
        _take(pending, alter.name)
        return
    new = stmt.name_at(alter.actions[0].start + 2) if alter.actions else None
    if new is not None and alter.actions[0].starts_with("RENAME", "TO"):
        renamed = ObjectName((*alter.name.parts[:-1], new.name), new.start, new.end, new.quoted)
        for stmt_, table, _ in _take(pending, alter.name):
            pending.setdefault(new.name, []).append((stmt_, table, renamed))


def _adds_key(action: Span) -> bool:
    added = added_constraint(action)
    if added is not None:
        return added.kind == "PRIMARY"
    column = added_column(action)
    return column is not None and column.find("PRIMARY", "KEY") is not None


def _dropped(stmt: Stmt, pending: Pending) -> None:
    first = stmt.name_from(2)
    if first is None:
        return
    for part in Span(stmt, first.start, len(stmt)).split():
        name = stmt.name_at(part.start)
        if name is not None:
            _take(pending, name)
