"""`ALTER TABLE ... RENAME TO`: every query of the deployed code names the old table.

## What it catches

`ALTER TABLE [IF EXISTS] [ONLY] old RENAME TO new`, also inside DO blocks; `IF EXISTS` (the
re-run guard of IDEM009) does not make it compatible. Not reported: a table created earlier in
the same file (nothing uses its name yet), a rename after which the same transaction creates
a relation under the old name again, so that queries naming it keep working: `CREATE VIEW old
AS SELECT ... FROM new` (the compatibility view, the safe rewrite below), `CREATE TABLE old`
(a rebuild: the old table is moved aside, copied into a new one and dropped; that drop is
DEST001's) or a swap (`ALTER TABLE old RENAME TO old_v1; ALTER TABLE old_v2 RENAME TO old`:
the second rename is reported, the name `old_v2` goes away), and down files, which rename
back.

## Why it hurts

The rename itself is instant, but it needs an ACCESS EXCLUSIVE lock and takes effect at
commit for every session at once, while the application instances of the previous release
are still running: all their queries, prepared statements and ORM models name the old table
and fail with `relation "old" does not exist` until every instance is replaced. A rolling
deploy cannot be made atomic with a migration.

## Example

```sql
ALTER TABLE customers RENAME TO accounts;
```

## Use instead

Keep the physical name and rename in the code only, or rename and leave a view under the old
name for one release (a simple view over one table is updatable, so old INSERT/UPDATE/DELETE
keep working):

```sql
DO $$ BEGIN
    IF to_regclass('accounts') IS NULL THEN
        ALTER TABLE customers RENAME TO accounts;
    END IF;
END $$;
CREATE OR REPLACE VIEW customers AS SELECT * FROM accounts;
-- a later migration, once no code uses the old name: DROP VIEW IF EXISTS customers;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Stmt
from sqlmig.lint.rule import Finding, Rule


class RenameTable(Rule):
    id = "DEST003"
    slug = "rename-table"
    applies_to_down = False
    hint = (
        "keep the table's name, or rename it and CREATE VIEW old_name AS SELECT * FROM new_name "
        "for a release"
    )
    starts = ("ALTER",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        renames = [r for s in ctx.starting_with("ALTER") if (r := _rename(s)) is not None]
        if not renames:
            return
        keepers: dict[str, list[tuple[Stmt, ObjectName]]] = {}
        made = [(s, k) for s in ctx.starting_with("CREATE") if (k := _keeper(s)) is not None]
        for s, name in made + [(s, new) for s, _, new in renames]:
            keepers.setdefault(name.name, []).append((s, name))
        for stmt, old, new in renames:
            if ctx.created_before(stmt, "table", old):
                continue
            kept = keepers.get(old.name, ())
            if any(k.index > stmt.index and k.tx == stmt.tx and n.same(old) for k, n in kept):
                continue
            yield self.finding(
                ctx,
                stmt,
                f"renaming table {old} to {new} breaks every query of the deployed code that "
                f"still names {old.name}",
                at=old.start,
                hint=f"keep the name, or add CREATE VIEW {old} AS SELECT * FROM {new.name}; "
                "right after the rename, for one release",
            )


def _rename(stmt: Stmt) -> tuple[Stmt, ObjectName, ObjectName] | None:
    alter = stmt.alter_table() if "RENAME" in stmt.kws else None
    if alter is None or len(alter.actions) != 1:
        return None
    action = alter.actions[0]
    if not action.starts_with("RENAME", "TO"):
        return None
    new = action.name_at(action.start + 2)
    return None if new is None else (stmt, alter.name, new)


def _keeper(stmt: Stmt) -> ObjectName | None:
    """The name a CREATE VIEW or CREATE TABLE (not temporary) gives a relation."""
    return stmt.name_after("CREATE [OR REPLACE] [RECURSIVE] VIEW") or stmt.name_after(
        "CREATE [UNLOGGED] TABLE"
    )
