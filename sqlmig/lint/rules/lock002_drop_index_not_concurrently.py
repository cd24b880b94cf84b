"""`DROP INDEX` without `CONCURRENTLY` takes an ACCESS EXCLUSIVE lock on the index's table.

## What it catches

`DROP INDEX [IF EXISTS] name [, ...]` without `CONCURRENTLY`, including inside a DO block.
Not reported: an index this file created earlier (nobody uses it yet), and, in a down file,
an index its up file creates on a table this down file drops as well (`DROP TABLE` takes the
same lock anyway, so dropping the index first adds nothing).

## Why it hurts

A plain `DROP INDEX` needs an ACCESS EXCLUSIVE lock on the table the index belongs to. The drop
itself is quick, but the lock request queues behind every running query on the table (a long
report, an idle-in-transaction session), and every read and write that arrives after it queues
behind the drop: a busy table stops answering until the oldest query ends. That is why this is
a warning, not an error: the harm is the wait, not the work.

## Example

```sql
DROP INDEX IF EXISTS orders_status_idx;
```

## Use instead

```sql
DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
```

`DROP INDEX CONCURRENTLY` waits for the transactions using the index and takes only a SHARE
UPDATE EXCLUSIVE lock, so reads and writes go on. It drops one index per statement, without
`CASCADE`, and cannot drop the index of a partitioned table (drop the partitions' indexes,
then the parent's plainly) nor an index that backs a constraint (`DROP CONSTRAINT`). sqlmig
runs it alone, outside any transaction, by itself; it cannot run inside a DO block or a
function. Set `lock_timeout` so a plain drop that must stay gives up instead of queueing.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import dropped

_PREFIXES = frozenset({"idx", "ix", "index", "uq", "uniq", "unique", "ux"})


class DropIndexNotConcurrently(Rule):
    id = "LOCK002"
    slug = "drop-index-not-concurrently"
    severity = "warning"
    uses_partner = True  # a down file: the up file tells which table an index is on
    hint = "DROP INDEX CONCURRENTLY IF EXISTS name; (one index per statement, no CASCADE)"
    starts = ("DROP",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        drops = [s for s in ctx.starting_with("DROP") if s.starts_with("DROP", "INDEX")]
        if not drops:
            return
        gone = _Gone(ctx)
        for stmt in drops:
            if stmt.kw(2) == "CONCURRENTLY":
                continue
            names = [
                name
                for name in _names(stmt)
                if not ctx.created_before(stmt, "index", name) and not gone.covers(stmt, name)
            ]
            if names:
                yield self._finding(ctx, stmt, names)

    def _finding(self, ctx: FileContext, stmt: Stmt, names: list[ObjectName]) -> Finding:
        listed = ", ".join(map(str, names))
        rewrite = "; ".join(f"DROP INDEX CONCURRENTLY IF EXISTS {n}" for n in names) + ";"
        hint = f"move it out of the DO block: {rewrite}" if stmt.in_do else rewrite
        return self.finding(
            ctx,
            stmt,
            f"DROP INDEX {listed} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its "
            "table: it waits for running queries and blocks all reads and writes meanwhile",
            at=1,
            hint=hint,
        )


class _Gone:
    """What else in the file removes an index, or already holds the lock its drop takes."""

    def __init__(self, ctx: FileContext) -> None:
        self.tables: dict[str, list[ObjectName]] = {}  # dropped tables by (lower-case) name
        for stmt in ctx.starting_with("DROP"):
            at = stmt.match("DROP TABLE") or stmt.match("DROP [MATERIALIZED] VIEW")
            for table in _names(stmt, at) if at is not None else ():
                self.tables.setdefault(table.name.lower(), []).append(table)
        self.on = _index_tables(ctx) if ctx.kind == "down" else {}
        self.constraints: dict[str, list[Stmt]] = {}  # DROP CONSTRAINT name -> statements
        for stmt in ctx.starting_with("ALTER"):
            alter = stmt.alter_table() if "CONSTRAINT" in stmt.kws else None
            for action in alter.actions if alter is not None else ():
                constraint = dropped(action)
                if constraint is not None:
                    self.constraints.setdefault(constraint, []).append(stmt)

    def covers(self, stmt: Stmt, index: ObjectName) -> bool:
        """The index is on a table this file drops (``DROP TABLE`` takes the same lock, and
        drops its indexes): its up file creates it on that table, or it is named after the
        table (``orders_status_idx``, ``idx_orders_status``). Or it is named like a constraint
        dropped earlier in the same transaction: ``ALTER TABLE ... DROP CONSTRAINT`` already
        holds the lock, and dropped the index that backed the constraint."""
        for table in self.on.get(index.name, ()):
            if any(table.same(d) for d in self.tables.get(table.name.lower(), ())):
                return True
        if any(t in self.tables for t in _table_names(index.name)):
            return True
        earlier = self.constraints.get(index.name, ())
        return any(e.index < stmt.index and e.tx == stmt.tx for e in earlier)


def _table_names(index: str) -> list[str]:
    """The table names an index name may start with: ``orders_status_idx`` and
    ``idx_orders_status`` give ``orders`` and ``orders_status``."""
    parts = index.lower().split("_")
    if parts[0] in _PREFIXES:
        parts = parts[1:]
    return ["_".join(parts[:n]) for n in range(1, len(parts))]


def _names(stmt: Stmt, at: int = 2) -> list[ObjectName]:
    """``DROP <kind> [CONCURRENTLY] [IF EXISTS] a, b [CASCADE]``: the names from word ``at``."""
    first = stmt.name_from(at)
    if first is None:
        return []
    names = (stmt.name_at(part.start) for part in Span(stmt, first.start, len(stmt)).split())
    return [name for name in names if name is not None]


def _index_tables(ctx: FileContext) -> dict[str, list[ObjectName]]:
    """Index name -> the tables the up file (the partner of a down file) creates it on."""
    up = ctx.partner
    out: dict[str, list[ObjectName]] = {}
    for stmt in up.starting_with("CREATE") if up is not None else ():
        at = stmt.match("CREATE [UNIQUE] INDEX")
        index = stmt.name_from(at) if at is not None else None
        if index is None or stmt.kw(index.end) != "ON":
            continue
        table = stmt.name_from(index.end + 1)
        if table is not None:
            out.setdefault(index.name, []).append(table)
    return out
