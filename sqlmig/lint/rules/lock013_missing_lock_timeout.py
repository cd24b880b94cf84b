"""DDL that locks an existing relation with no `lock_timeout`: it can queue all traffic.

## What it catches

Only when no lock_timeout is in force: the configured `lock_timeout` is `0` (sqlmig sets a
non-zero one on every migration session itself, and the rule is then silent) or the file turned
it off (`-- sqlmig:lock-timeout 0`, `SET lock_timeout = 0`, `RESET lock_timeout`), and no
non-zero `SET [LOCAL] lock_timeout` (or `set_config('lock_timeout', ...)`) is in force at the
statement. The first such statement is reported, and again the first one after any statement
that did run with a timeout (for example in the next transaction after a `SET LOCAL`).

A statement counts when it waits for a lock that conflicts with ordinary reads or writes
(SHARE or stronger) on a relation this file did not create:

- `ALTER TABLE` on an existing table, unless all its actions take only SHARE UPDATE EXCLUSIVE
  (`VALIDATE CONSTRAINT`, `SET STATISTICS`, `SET (...)`/`RESET (...)` of storage or column
  options, `CLUSTER ON`, `SET WITHOUT CLUSTER`, `DETACH PARTITION ... CONCURRENTLY|FINALIZE`,
  `ATTACH PARTITION`, as far as the parent goes);
- `CREATE TABLE`/`ALTER TABLE` of a new table whose foreign key `REFERENCES` an existing table
  (SHARE ROW EXCLUSIVE on it), `CREATE TABLE ... PARTITION OF` an existing parent (ACCESS
  EXCLUSIVE on it), `ATTACH PARTITION` of an existing table (ACCESS EXCLUSIVE on it);
- `CREATE [UNIQUE] INDEX` without `CONCURRENTLY`; `DROP TABLE|VIEW|MATERIALIZED VIEW|SEQUENCE`
  and `DROP INDEX` without `CONCURRENTLY`; `TRUNCATE`; `LOCK TABLE` in SHARE mode or stronger
  without `NOWAIT`;
- `CREATE [OR REPLACE] TRIGGER`, `DROP TRIGGER`, `ALTER TRIGGER`, `CREATE RULE`, `DROP RULE`,
  `CREATE|ALTER|DROP POLICY` on an existing table;
- `ALTER VIEW`, `ALTER MATERIALIZED VIEW`, `ALTER SEQUENCE` (blocks `nextval`),
  `ALTER INDEX ... SET TABLESPACE`; `ALTER DOMAIN ... ADD CONSTRAINT` (without `NOT VALID`),
  `SET NOT NULL` or `VALIDATE CONSTRAINT` (SHARE lock on every table using the domain);
- the blocking maintenance of LOCK015 (`VACUUM FULL`, `CLUSTER`, plain `REINDEX`, `REFRESH
  MATERIALIZED VIEW`, `DETACH PARTITION`).

Not counted: anything on objects created earlier in the file (a sequence named
`<new table>_..._seq` counts as created with its serial column); `CREATE INDEX CONCURRENTLY`
and other SHARE UPDATE EXCLUSIVE work, which never blocks reads or writes; `ALTER TYPE` (enum
`ADD VALUE`, renames: queries take no lock on a type), `CREATE [OR REPLACE] VIEW|FUNCTION`,
`DROP TYPE|FUNCTION|SCHEMA` (no table lock; what a `CASCADE` drops is not modelled),
`COMMENT`, `GRANT`; function bodies (never linted). DO-block statements count.

## Why it hurts

A DDL statement first waits for its lock, and it waits behind any transaction that touched
the table, however long (a report, an idle-in-transaction session, a long `pg_dump`). While it
waits, every new query on the table that conflicts with it queues behind it: a plain `ALTER
TABLE ... ADD COLUMN`, instant once it has its lock, turns into a full outage of the table for
as long as the oldest transaction lives. With `lock_timeout` set, the statement gives up after
a few seconds instead, the traffic behind it proceeds, and the migration is retried.

## Example

```sql
-- config.yaml: lock_timeout: 0
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
```

## Use instead

Keep `lock_timeout` non-zero in `config.yaml` (sqlmig sets it on every session and retries
after a timeout, `lock_retries`), or set it in the file before the first DDL:

```sql
SET lock_timeout = '2s';          -- SET LOCAL lock_timeout = '2s' inside BEGIN ... COMMIT
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext, ObjectKind
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules.lock015_blocking_maintenance import BlockingMaintenance

# ALTER TABLE actions taking only SHARE UPDATE EXCLUSIVE (reads and writes go on).
_WEAK_ACTIONS: Final = (
    "VALIDATE CONSTRAINT",
    "ALTER [COLUMN] ... SET|RESET STATISTICS|(",
    "SET|RESET (",
    "CLUSTER ON",
    "SET WITHOUT CLUSTER",
)
_DROPS: Final[tuple[tuple[str, ObjectKind], ...]] = (
    ("DROP [FOREIGN] TABLE", "table"),
    ("DROP MATERIALIZED VIEW", "table"),
    ("DROP VIEW", "view"),
    ("DROP SEQUENCE", "sequence"),
    ("DROP INDEX", "index"),
)
# Words between CREATE and the kind of object (CREATE OR REPLACE CONSTRAINT TRIGGER ...).
_CREATE_MODIFIERS: Final = frozenset(
    {"OR", "REPLACE", "UNIQUE", "CONSTRAINT", "GLOBAL", "LOCAL", "TEMP", "TEMPORARY"}
    | {"UNLOGGED", "FOREIGN"}
)
# LOCK TABLE modes that conflict with no reads or writes.
_WEAK_LOCK_MODES: Final = "ACCESS SHARE|ROW SHARE|ROW EXCLUSIVE|SHARE UPDATE EXCLUSIVE"
_MAINTENANCE: Final = BlockingMaintenance()


class MissingLockTimeout(Rule):
    id = "LOCK013"
    slug = "missing-lock-timeout"
    hint = (
        "SET lock_timeout = '2s'; before the first DDL (SET LOCAL inside BEGIN ... COMMIT), or "
        "a non-zero lock_timeout in config.yaml: sqlmig sets it and retries"
    )
    starts = (
        "ALTER",
        "CREATE",
        "DROP",
        "TRUNCATE",
        "LOCK",
        "VACUUM",
        "CLUSTER",
        "REPACK",
        "REINDEX",
        "REFRESH",
    )

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        reported = False  # an unprotected DDL was reported, and none ran protected since
        for stmt in ctx.starting_with(*self.starts):
            if stmt.lock_timeout_ms > 0:
                reported = reported and _locked(stmt, ctx) is None
                continue
            if reported:
                continue
            target = _locked(stmt, ctx)
            if target is None:
                continue
            reported = True
            yield self.finding(
                ctx,
                stmt,
                f"{target} with no lock_timeout: while it waits behind any long transaction, "
                "every query that needs the table queues behind it",
            )


def _locked(stmt: Stmt, ctx: FileContext) -> str | None:
    """What ``stmt`` locks that conflicts with reads or writes and existed before this file
    ("ALTER TABLE locks orders"), or None."""
    first = stmt.kw(0)
    if first == "ALTER":
        return _alter(stmt, ctx)
    if first == "CREATE":
        return _create(stmt, ctx)
    if first == "DROP":
        return _drop(stmt, ctx)
    if first in ("TRUNCATE", "LOCK"):
        return _truncate_or_lock(stmt, ctx)
    if any(_MAINTENANCE.check_statement(stmt, ctx)):
        return f"{first} locks what it rebuilds"
    return None


def _alter(stmt: Stmt, ctx: FileContext) -> str | None:
    alter = stmt.alter_table()
    if alter is None:
        return _alter_other(stmt, ctx)
    table = alter.name
    existing = not ctx.created_before(stmt, "table", table)
    if existing and not all(_weak(action) for action in alter.actions):
        return f"ALTER TABLE locks {table}"
    for action in alter.actions:
        if action.starts_with("ATTACH", "PARTITION"):
            part = action.name_from(action.start + 2)
            if part is not None and not ctx.created_before(stmt, "table", part):
                return f"ATTACH PARTITION locks {part}"
    referenced = _references(stmt, ctx, table)
    return f"a foreign key locks {referenced}" if referenced is not None else None


def _weak(action: Span) -> bool:
    """Whether an ALTER TABLE action takes only SHARE UPDATE EXCLUSIVE on the table."""
    if any(action.match(pattern) is not None for pattern in _WEAK_ACTIONS):
        return True
    if action.starts_with("DETACH", "PARTITION"):
        part = action.name_from(action.start + 2)
        return part is not None and action.kw(part.end) in ("CONCURRENTLY", "FINALIZE")
    return action.starts_with("ATTACH", "PARTITION")  # the partition: see _alter


def _alter_other(stmt: Stmt, ctx: FileContext) -> str | None:
    """ALTER of a view, materialized view, sequence, index, trigger, policy or domain."""
    if (at := stmt.match("ALTER MATERIALIZED VIEW")) is not None:
        return _if_existing(stmt, ctx, "ALTER MATERIALIZED VIEW", "table", stmt.name_from(at))
    if (at := stmt.match("ALTER VIEW")) is not None:
        return _if_existing(stmt, ctx, "ALTER VIEW", "view", stmt.name_from(at))
    if (at := stmt.match("ALTER SEQUENCE")) is not None:
        return _if_existing(stmt, ctx, "ALTER SEQUENCE", "sequence", stmt.name_from(at))
    if (at := stmt.match("ALTER INDEX")) is not None:
        name = stmt.name_from(at)
        if name is not None and stmt.starts_with("SET", "TABLESPACE", at=name.end):
            return _if_existing(stmt, ctx, "ALTER INDEX ... SET TABLESPACE", "index", name)
        return None
    if stmt.match("ALTER TRIGGER|POLICY") is not None:
        return _on_table(stmt, ctx, f"ALTER {stmt.kw(1)}")
    if (at := stmt.match("ALTER DOMAIN")) is not None:
        name = stmt.name_from(at)
        if name is None or ctx.created_before(stmt, "type", name):
            return None
        adds = stmt.kw(name.end) == "ADD" and not stmt.has_words("NOT", "VALID")
        checks = stmt.starts_with("SET", "NOT", "NULL", at=name.end) or stmt.starts_with(
            "VALIDATE", "CONSTRAINT", at=name.end
        )
        if adds or checks:
            return f"ALTER DOMAIN locks every table using {name}"
    return None


def _create(stmt: Stmt, ctx: FileContext) -> str | None:
    at = 1
    while stmt.kw(at) in _CREATE_MODIFIERS:
        at += 1
    what = stmt.kw(at)
    if what == "INDEX":
        if stmt.kw(at + 1) == "CONCURRENTLY":
            return None
        on = stmt.find("ON", start=at, depth=0)
        table = stmt.name_from(on + 1) if on is not None else None
        return _if_existing(stmt, ctx, "CREATE INDEX", "table", table)
    if what in ("TRIGGER", "POLICY"):
        return _on_table(stmt, ctx, f"CREATE {what}")
    if what == "RULE":
        to = stmt.find("TO", start=at, depth=0)
        table = stmt.name_at(to + 1) if to is not None else None
        return _if_existing(stmt, ctx, "CREATE RULE", "table", table, also="view")
    if what != "TABLE":
        return None
    name = stmt.name_from(at + 1)
    partition = stmt.find("PARTITION", "OF", start=at, depth=0)
    if partition is not None:
        parent = stmt.name_at(partition + 2)
        if parent is not None and not ctx.created_before(stmt, "table", parent):
            return f"CREATE TABLE ... PARTITION OF locks {parent}"
    referenced = _references(stmt, ctx, name)
    return f"a foreign key locks {referenced}" if referenced is not None else None


def _drop(stmt: Stmt, ctx: FileContext) -> str | None:
    if stmt.match("DROP TRIGGER|RULE|POLICY") is not None:
        return _on_table(stmt, ctx, f"DROP {stmt.kw(1)}")
    for pattern, kind in _DROPS:
        at = stmt.match(pattern)
        if at is None:
            continue
        if stmt.kw(at) == "CONCURRENTLY":
            return None
        first = stmt.name_from(at)
        if first is None:
            return None
        for part in Span(stmt, first.start, len(stmt)).split():
            name = stmt.name_at(part.start)
            if name is not None and not _new(stmt, ctx, kind, name):
                return f"{pattern.replace('[FOREIGN] ', '')} locks {name}"
        return None
    return None


def _truncate_or_lock(stmt: Stmt, ctx: FileContext) -> str | None:
    first = stmt.kw(0)
    if first == "LOCK":
        mode = stmt.find("IN", depth=0)
        weak = mode is not None and any(
            stmt.match(f"{m} MODE", at=mode + 1) is not None for m in _WEAK_LOCK_MODES.split("|")
        )
        if weak or stmt.has_words("NOWAIT"):
            return None
        end = mode if mode is not None else len(stmt)
    else:
        end = len(stmt)
    i = 2 if stmt.kw(1) == "TABLE" else 1
    for part in Span(stmt, i, end).split():
        name = part.name_from(part.start)
        if name is not None and not ctx.created_before(stmt, "table", name):
            return f"{first} locks {name}"
    return None


def _on_table(stmt: Stmt, ctx: FileContext, what: str) -> str | None:
    """For `... name ON table ...` (triggers, policies, rules)."""
    on = stmt.find("ON", depth=0)
    table = stmt.name_from(on + 1) if on is not None else None
    return _if_existing(stmt, ctx, what, "table", table, also="view")


def _if_existing(
    stmt: Stmt,
    ctx: FileContext,
    what: str,
    kind: ObjectKind,
    name: ObjectName | None,
    also: ObjectKind | None = None,
) -> str | None:
    if name is None or _new(stmt, ctx, kind, name):
        return None
    if also is not None and ctx.created_before(stmt, also, name):
        return None
    return f"{what} locks {name}"


def _new(stmt: Stmt, ctx: FileContext, kind: ObjectKind, name: ObjectName) -> bool:
    """Created earlier in this file; a sequence `<table>_<column>_seq` with its new table."""
    if ctx.created_before(stmt, kind, name):
        return True
    if kind != "sequence" or not name.name.endswith("_seq"):
        return False
    parts = name.name.split("_")
    return any(
        ctx.created_before(stmt, "table", ObjectName(("_".join(parts[:k]),), 0, 0, False))
        for k in range(1, len(parts) - 1)
    )


def _references(stmt: Stmt, ctx: FileContext, own: ObjectName | None) -> ObjectName | None:
    """The first table a `REFERENCES` of ``stmt`` names that existed before this file."""
    i = stmt.find("REFERENCES")
    while i is not None:
        table = stmt.name_at(i + 1)
        if (
            table is not None
            and not (own is not None and table.same(own))
            and not ctx.created_before(stmt, "table", table)
        ):
            return table
        i = stmt.find("REFERENCES", start=i + 1)
    return None
