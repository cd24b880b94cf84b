"""`DROP VIEW/FUNCTION/PROCEDURE/TYPE/SEQUENCE/DOMAIN/EXTENSION`: code may still call it.

## What it catches

`DROP [MATERIALIZED] VIEW`, `DROP FUNCTION`, `DROP PROCEDURE`, `DROP ROUTINE`, `DROP TYPE`,
`DROP DOMAIN`, `DROP SEQUENCE` and `DROP EXTENSION` (with or without `IF EXISTS`, also inside
DO blocks) of an object that stays dropped. Not reported:

- an object created earlier in the same file (a helper the migration made and removes);
- without `CASCADE`, a replacement: the file creates an object of the same kind under that
  name later in the same transaction (`DROP VIEW v; CREATE VIEW v ...`, needed when `CREATE
  OR REPLACE` cannot change a view's columns or a function's return type), or drops the old
  version after renaming it out of the way (`ALTER TYPE s RENAME TO s_old; CREATE TYPE s ...;
  DROP TYPE s_old`). A sequence dropped and created again is still reported: it restarts, and
  ids are handed out twice.

Down files are not checked.

## Why it hurts

Views, functions, types and sequences are called by name from application code, other views,
triggers, defaults and reports that the migration does not show. Dropped, those callers fail
at run time (`function ... does not exist`, `relation ... does not exist`), in production,
often in a code path nobody exercised in staging. `CASCADE` is worse: it silently drops every
dependent view, trigger, default and column (a `DROP TYPE ... CASCADE` drops the table
columns of that type, with their data), and does not say which.

## Example

```sql
DROP FUNCTION IF EXISTS order_total(bigint) CASCADE;
```

## Use instead

Remove the callers first (code, triggers, views, column defaults) and deploy; then drop the
object without `CASCADE`, so that PostgreSQL refuses if anything still depends on it, and say
why it is safe:

```sql
-- sqlmig:ignore DEST007 no caller since release 41; the trigger was dropped in 0087
DROP FUNCTION IF EXISTS order_total(bigint);
```
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._dest import name_list

# Object kinds by family: a DROP of one kind is undone by a CREATE of the same family.
_DROPS: Final = (
    ("DROP [MATERIALIZED] VIEW", "view"),
    ("DROP FUNCTION|PROCEDURE|ROUTINE", "routine"),
    ("DROP TYPE|DOMAIN", "type"),
    ("DROP SEQUENCE", "sequence"),
    ("DROP EXTENSION", "extension"),
)
_CREATES: Final = (
    ("CREATE [OR REPLACE] [TEMP|TEMPORARY] [RECURSIVE] VIEW", "view"),
    ("CREATE MATERIALIZED VIEW", "view"),
    ("CREATE [OR REPLACE] FUNCTION|PROCEDURE", "routine"),
    ("CREATE TYPE|DOMAIN", "type"),
    ("CREATE [TEMP|TEMPORARY|UNLOGGED] SEQUENCE", "sequence"),
    ("CREATE EXTENSION", "extension"),
)
_RENAMES: Final = (
    ("ALTER [MATERIALIZED] VIEW", "view"),
    ("ALTER FUNCTION|PROCEDURE|ROUTINE", "routine"),
    ("ALTER TYPE|DOMAIN", "type"),
    ("ALTER SEQUENCE", "sequence"),
)

# (family, name) -> where the file creates it; (family, new name) -> the old names renamed to it
Made = dict[tuple[str, str], list[tuple[Stmt, ObjectName]]]
Renamed = dict[tuple[str, str], list[ObjectName]]


class DropDependentObject(Rule):
    id = "DEST007"
    slug = "drop-dependent-object"
    severity = "warning"
    applies_to_down = False
    hint = (
        "remove the callers first, drop without CASCADE, and acknowledge: "
        "-- sqlmig:ignore DEST007 <why nothing uses it>"
    )
    starts = ("DROP",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        drops = [d for s in ctx.starting_with("DROP") if (d := _dropped(s)) is not None]
        if not drops:
            return
        created: Made = {}
        for stmt, family, name in _named(ctx.starting_with("CREATE"), _CREATES):
            created.setdefault((family, name.name), []).append((stmt, name))
        renamed = _renamed(ctx.starting_with("ALTER"))
        for stmt, family, names in drops:
            cascade = stmt.kw(len(stmt) - 1) == "CASCADE"
            kept = [n for n in names if not _exempt(stmt, family, n, cascade, created, renamed)]
            if not kept:
                continue
            yield self.finding(
                ctx,
                stmt,
                f"DROP {_kind(stmt)} {', '.join(map(str, kept))}: code, views, triggers or "
                f"defaults that still use it fail"
                + (" (CASCADE silently drops everything that depends on it)" if cascade else ""),
                at=kept[0].start,
            )


def _kind(stmt: Stmt) -> str:
    return "MATERIALIZED VIEW" if stmt.kw(1) == "MATERIALIZED" else stmt.kw(1)


def _dropped(stmt: Stmt) -> tuple[Stmt, str, list[ObjectName]] | None:
    for _, family, first in _named([stmt], _DROPS):
        return stmt, family, name_list(stmt, first)
    return None


def _named(
    stmts: list[Stmt], patterns: tuple[tuple[str, str], ...]
) -> Iterator[tuple[Stmt, str, ObjectName]]:
    """(statement, family, name) of the statements matching one of ``patterns``."""
    for stmt in stmts:
        head = stmt.kws[1:6]
        for pattern, family in patterns:
            if not _kind_words(pattern).intersection(head):
                continue  # cheap: most statements name none of the kinds
            name = stmt.name_after(pattern)
            if name is not None:
                yield stmt, family, name
                break


@cache
def _kind_words(pattern: str) -> frozenset[str]:
    """The object kinds a pattern ends with: ``DROP FUNCTION|PROCEDURE`` -> both."""
    return frozenset(pattern.split()[-1].split("|"))


def _renamed(stmts: list[Stmt]) -> Renamed:
    """``ALTER <kind> old [(args)] RENAME TO new``: the old names by (family, new name)."""
    out: Renamed = {}
    for stmt, family, old in _named(stmts, _RENAMES):
        i = old.end
        if stmt.kw(i) == "(":
            i = stmt.group_end(i) + 1
        new = stmt.name_at(i + 2) if stmt.starts_with("RENAME", "TO", at=i) else None
        if new is not None:
            out.setdefault((family, new.name), []).append(old)
    return out


def _exempt(
    drop: Stmt, family: str, name: ObjectName, cascade: bool, created: Made, renamed: Renamed
) -> bool:
    """Created earlier in the file; or, without CASCADE, re-created after the drop, or the
    renamed old version of an object the file creates again."""
    same = created.get((family, name.name), [])
    if any(s.index < drop.index and n.same(name) for s, n in same):
        return True
    if cascade or family == "sequence":
        return False
    if any(s.index > drop.index and s.tx == drop.tx and n.same(name) for s, n in same):
        return True
    olds = renamed.get((family, name.name), [])
    return any(n.same(old) for old in olds for _, n in created.get((family, old.name), []))
