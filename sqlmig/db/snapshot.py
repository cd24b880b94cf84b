"""A catalog snapshot of a database's schema, read from ``pg_catalog``, and the diff of two.

Used by ``sqlmig test`` to prove that a down restores what its up changed. Decisions:

- Objects are named as a person reads them, schema-qualified (``column public.users.phone``,
  ``index public.users_email_idx``, ``trigger t on table public.users``). The key is that name,
  so a renamed object is one missing and one extra object.
- Read under ``search_path = pg_catalog``, so every user name in a definition is qualified.
- Excluded: system schemas, objects that belong to an extension (the extension and its version
  stand for them), sqlmig's own history tables, column positions (a dropped and re-added column
  moves to the end, which no down can avoid), sequence values, data, owners, and the grants an
  owner holds on its own objects. Roles belong to the server, not the database.
- An index's partial predicate is part of its ``pg_get_indexdef`` definition; a constraint's
  ``NOT VALID`` and ``DEFERRABLE`` are reported as its validity and deferrability.
- Speed: a snapshot rereads only the families (see ``snapshot_sql``) whose catalog rows changed
  since the previous one, and everything when a schema, relation, column, type, function,
  sequence, collation, enum label, extension or role was renamed or moved, since other
  objects' definitions show those names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from psycopg import Cursor, sql
from psycopg.rows import TupleRow

from sqlmig.db import snapshot_sql as q
from sqlmig.db.connect import Conn

Change = Literal["extra", "missing", "changed"]
Root = tuple[str, int]  # a family: its tag and its root object's OID
_ROLES: Final[Root] = ("R", 0)


@dataclass(frozen=True, slots=True)
class Item:
    """One object: its key (kind and qualified name), what owns it, and its attributes."""

    key: str
    parent: str | None
    summary: str  # shown after the key when the object appears or disappears (a column's type)
    attrs: tuple[tuple[str, str | None], ...]

    def attr(self, name: str) -> str | None:
        return dict(self.attrs).get(name)


@dataclass(frozen=True, slots=True)
class Snapshot:
    items: Mapping[str, Item]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and self.items == other.items

    def __hash__(self) -> int:
        return hash(tuple(self.items))


@dataclass(frozen=True, slots=True)
class Difference:
    """How ``actual`` differs from ``expected`` for one object (and one attribute)."""

    change: Change
    item: Item
    attr: str | None = None
    actual: str | None = None
    expected: str | None = None


@dataclass(frozen=True, slots=True)
class _Row:
    ident: object
    key: object
    parent: object
    summary: object
    values: Sequence[object]
    names: Sequence[str]


@dataclass(frozen=True, slots=True)
class _Family:
    items: dict[str, Item]
    idents: dict[str, Item]  # objects whose names other objects' definitions show


_SKIP: Final = """
WITH t AS (SELECT to_regclass(x)::oid AS oid FROM unnest(%(tables)s::text[]) x
           WHERE to_regclass(x) IS NOT NULL)
SELECT coalesce(array_agg(oid), '{}') FROM (
    SELECT oid FROM t
    UNION SELECT i.indexrelid FROM pg_index i JOIN t ON t.oid = i.indrelid
    UNION SELECT d.objid FROM pg_depend d JOIN t ON t.oid = d.refobjid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
            AND d.deptype IN ('a', 'i')) s
"""

_TABLES: Final = f"""
SELECT 'table ' || format('%I.%I', n.nspname, c.relname), n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.oid >= {q.FIRST_USER_OID} AND c.relpersistence <> 't'
    AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' AND c.oid <> ALL ({{skip}})
"""

_LABEL_RE: Final = re.compile(r"E?'((?:[^']|'')*)'")


class Reader:
    """Takes snapshots of one database on a connection of its own, leaving out ``skip_tables``.

    The connection reads with ``search_path = pg_catalog`` (every user name in a definition
    comes out qualified) and keeps its queries prepared. A snapshot costs one query for the
    family tokens, then one pipelined round trip for the families whose token changed.
    """

    def __init__(self, conn: Conn, skip_tables: Sequence[str]) -> None:
        self.conn = conn
        conn.execute("SET search_path = pg_catalog")
        # planning these joins costs more than running them for a few families: plan once
        conn.execute("SET plan_cache_mode = force_generic_plan")
        row = conn.execute(_SKIP, {"tables": list(skip_tables)}).fetchone()
        oids = [int(o) for o in row[0]] if row else []
        skip = f"'{{{','.join(map(str, oids))}}}'::oid[]"
        version = conn.info.server_version
        self._kinds = [
            (k.tag, bit, k.root is not None, k.full(skip).encode(), k.some(skip).encode())
            for k, bit in zip(q.kinds(version), q.kind_bits(version), strict=True)
        ]
        self._tables = _TABLES.format(skip=skip).encode()
        # an xid older than any row a token will sum: the oldest transaction still running
        base = conn.execute("SELECT txid_snapshot_xmin(txid_current_snapshot())").fetchone()
        self._token_query = q.tokens(int(base[0]) % 2**32 if base else 3).encode()
        self._tokens: dict[Root, tuple[str, int]] = {}  # token, and bits of the kinds in it
        self._families: dict[Root, _Family] = {}

    def snapshot(self, *, full: bool = False) -> Snapshot:
        """The schema now; ``full`` reads every family again (tests check the increments)."""
        rows = self.conn.execute(self._token_query, prepare=True).fetchall()
        tokens = {(str(t), int(r)): (str(v), int(b)) for t, r, v, b in rows}
        roles = tokens.get(_ROLES) != self._tokens.get(_ROLES)
        if full or roles or not self._refresh(tokens):
            self._families = self._read(None)
        self._tokens = tokens
        items: dict[str, Item] = {}
        for family in self._families.values():
            items.update(family.items)
        return Snapshot(items)

    def _refresh(self, tokens: dict[Root, tuple[str, int]]) -> bool:
        """Reread the families whose token changed; False when everything must be reread."""
        dirty = {r: t[1] for r, t in tokens.items() if self._tokens.get(r) != t}
        fresh = self._read(dirty) if dirty else {}
        for root, family in fresh.items():
            old = self._families.get(root)
            if old is not None and _renamed(old.idents, family.idents):
                return False
        for root in dirty.keys() | (self._tokens.keys() - tokens.keys()):
            self._families.pop(root, None)
        self._families.update(fresh)
        return True

    def _read(self, roots: dict[Root, int] | None) -> dict[Root, _Family]:
        """The families ``roots`` (None: all; the values are their kinds' bits) as they are
        now; empty ones are left out."""
        wanted: dict[str, list[int]] = {}
        bits: dict[str, int] = {}
        for (tag, oid), kinds in (roots or {}).items():
            wanted.setdefault(tag, []).append(oid)
            bits[tag] = bits.get(tag, 0) | kinds
        # one query after the other: on a local socket psycopg's pipeline costs more than
        # the round trips it saves
        found: dict[Root, list[_Row]] = {}
        for tag, bit, restrictable, full, some in self._kinds:
            if roots is None or (not restrictable and bits.get(tag, 0) & bit):
                cur = self.conn.execute(full, prepare=True)
            elif bits.get(tag, 0) & bit:
                cur = self.conn.execute(some, {"roots": wanted[tag]}, prepare=True)
            else:
                continue
            for oid, row in _rows(cur):
                found.setdefault((tag, oid), []).append(row)
        return {root: _family(rows) for root, rows in found.items()}

    def row_counts(self) -> dict[str, int]:
        """Rows in each table (partitions counted, not their parents), by table key."""
        tables = self.conn.execute(self._tables).fetchall()
        if not tables:
            return {}
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}, count(*) FROM {}").format(
                sql.Literal(key), sql.Identifier(schema, name)
            )
            for key, schema, name in tables
        )
        return {str(key): int(n) for key, n in self.conn.execute(query).fetchall()}


def _rows(cur: Cursor[TupleRow]) -> Iterator[tuple[int, _Row]]:
    """A kind query's rows: (root OID, ident, key, parent, summary, *named attributes)."""
    names = [col.name for col in cur.description or ()][5:]
    for r in cur.fetchall():
        yield int(r[0]), _Row(r[1], r[2], r[3], r[4], r[5:], names)


def _family(rows: Iterable[_Row]) -> _Family:
    items: dict[str, Item] = {}
    idents: dict[str, Item] = {}
    for row in rows:
        attrs = tuple((n, _text(v)) for n, v in zip(row.names, row.values, strict=True))
        item = Item(str(row.key), _text(row.parent), str(row.summary or ""), attrs)
        items[item.key] = item
        if row.ident is not None:
            idents[str(row.ident)] = item
    return _Family(items, idents)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _renamed(before: Mapping[str, Item], after: Mapping[str, Item]) -> bool:
    """Whether an object that other definitions name was renamed, moved, or (an extension)
    changed, or an enum label was renamed: then every definition must be read again."""
    for ident, old in before.items():
        new = after.get(ident)
        if new is None:
            continue
        if new.key != old.key or (ident.startswith("x") and new.attrs != old.attrs):
            return True
        labels = old.attr("labels")
        if labels and not set(_LABEL_RE.findall(labels)) <= set(
            _LABEL_RE.findall(new.attr("labels") or "")
        ):
            return True
    return False


# -- comparing ----------------------------------------------------------------------------


def compare(expected: Snapshot, actual: Snapshot) -> list[Difference]:
    """What differs in ``actual``: extra and missing objects, then changed attributes.

    An object that appears or disappears together with its parent (a table's columns, an
    index's table) is not listed on its own: the parent says it.
    """
    if expected == actual:
        return []
    want, got = expected.items, actual.items
    out = _whole(got, want, "extra") + _whole(want, got, "missing")
    for key in sorted(want.keys() & got.keys()):
        if want[key] != got[key]:
            out.extend(_changed(want[key], got[key]))
    return out


def _whole(
    present: Mapping[str, Item], absent: Mapping[str, Item], change: Change
) -> list[Difference]:
    only = {k for k in present if k not in absent}
    return [
        Difference(change, present[k])
        for k in sorted(only)
        if not _parent_also(present[k], present, only)
    ]


def _parent_also(item: Item, present: Mapping[str, Item], only: set[str]) -> bool:
    parent = item.parent
    while parent is not None:
        if parent in only:
            return True
        up = present.get(parent)
        parent = up.parent if up is not None else None
    return False


def _changed(expected: Item, actual: Item) -> Iterable[Difference]:
    got = dict(actual.attrs)
    for name, value in expected.attrs:
        if got.get(name) != value:
            yield Difference("changed", expected, name, got.get(name), value)
