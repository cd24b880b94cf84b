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
  since the previous one: those the DDL log of ``watch``'s event triggers names, or else those
  whose xmin sum changed. Everything is reread when a schema, relation, column, type,
  function, sequence, collation, enum label, extension or role was renamed or moved, since
  other objects' definitions show those names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final, Literal

import psycopg
from psycopg import Cursor, sql
from psycopg.rows import TupleRow

from sqlmig.db import snapshot_sql as q
from sqlmig.db.connect import Conn

Change = Literal["extra", "missing", "changed"]
Root = tuple[str, int]  # a family: its tag and its root object's OID
_ROLES: Final[Root] = ("R", 0)
_GLOBALS: Final[Root] = ("G", 0)
_LOG_TRIM: Final = 1000  # DDL log entries read between deletions of those read
# what a dropped object (pg_event_trigger_dropped_objects' object_type) belongs to
_ROOT_TAGS: Final = {
    "table": "r", "view": "r", "materialized view": "r", "foreign table": "r",
    "sequence": "S", "function": "f", "procedure": "f", "aggregate": "f",
    "type": "T", "domain": "T",
}  # fmt: skip
_GLOBAL_TYPES: Final = frozenset(
    {"schema", "extension", "collation", "event trigger", "default acl"}
)
_RELATION_KEYS: Final = ("table {}", "view {}", "materialized view {}", "foreign table {}")
_MEMBER_KEYS: Final = {
    **dict.fromkeys(
        ("table column", "default value", "table constraint", "trigger", "policy", "rule"),
        _RELATION_KEYS,
    ),
    "index": ("index {}",),
    "statistics object": ("statistics {}",),
    "domain constraint": ("domain {}",),
}
_RELATION_RE: Final = re.compile(r"(?:table|view|materialized view|foreign table) (.*)")
# Commands whose catalog changes event triggers do not see, anywhere in a statement (a DO
# block, a function body): CLUSTER marks an index, REINDEX rebuilds some, roles and event
# triggers are never reported, DROP/REASSIGN OWNED can reach the log's own objects.
_UNLOGGED_RE: Final = re.compile(
    r"(?i)\b(cluster|reindex|event\s+trigger|(alter|drop)\s+(role|user|group)"
    rf"|(drop|reassign)\s+owned|{q.WATCH_SCHEMA})\b"
)


def logs(statement: str) -> bool:
    """Whether the DDL log sees every catalog change ``statement`` makes when it runs in a
    transaction; a false alarm only costs a scan."""
    return _UNLOGGED_RE.search(statement) is None


@dataclass(frozen=True, slots=True)
class Item:
    """One object: its key (kind and qualified name), what owns it, and its attributes."""

    key: str
    parent: str | None
    summary: str  # shown after the key when the object appears or disappears (a column's type)
    attrs: tuple[tuple[str, str | None], ...]

    def attr(self, name: str) -> str | None:
        return dict(self.attrs).get(name)


@dataclass(frozen=True)
class Snapshot:
    """The objects of a database, by family: a family the next snapshot did not reread is the
    same object in both, so comparing two snapshots costs what changed, not the schema."""

    families: Mapping[Root, Mapping[str, Item]]

    @cached_property
    def items(self) -> Mapping[str, Item]:
        """Every object by key (built on first use)."""
        return {key: item for family in self.families.values() for key, item in family.items()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and self.families == other.families

    def __hash__(self) -> int:
        return hash(tuple(self.families))


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
    AND {q.USER_NSP} AND c.oid <> ALL ({{skip}})
"""

_LABEL_RE: Final = re.compile(r"E?'((?:[^']|'')*)'")


class Reader:
    """Takes snapshots of one database on a connection of its own, leaving out ``skip_tables``.

    The connection reads with ``search_path = pg_catalog`` (every user name in a definition
    comes out qualified) and keeps its queries prepared. A snapshot costs one query for the
    family tokens, whose cost grows with the schema, then one query per kind for the families
    whose token changed. After ``watch``, a snapshot the caller says is ``logged`` asks the DDL
    log which families changed instead, at a cost that does not grow with the schema.
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
        self._relatives = q.relatives().encode()
        self._tokens: dict[Root, tuple[str, int]] = {}  # token, and bits of the kinds in it
        self._families: dict[Root, _Family] = {}
        self._owner: dict[str, Root] = {}  # the family of each item, by key
        self._parents: dict[Root, str] = {}  # each inheriting table's "parent tables"
        self.watching = False
        self._seen = 0  # the last DDL log entry read

    def watch(self) -> bool:
        """Install the DDL log (event triggers need a superuser); whether it is on."""
        try:
            with self.conn.transaction():
                self.conn.execute(q.WATCH.encode())
        except psycopg.errors.InsufficientPrivilege:
            return False
        self.watching = True
        return True

    def snapshot(self, *, full: bool = False, logged: bool = False) -> Snapshot:
        """The schema now. ``logged``: every change since the previous snapshot was made by
        statements the DDL log sees: DDL in one transaction, touching no role and no event
        trigger (those are read whole by a scan). ``full`` reads every family again (tests
        check the increments against it)."""
        changed = (
            self._logged() if logged and self.watching and not full and self._families else None
        )
        if changed is not None:
            if not self._refresh_roots(*changed):
                self._store(self._read(None), replace=True)
        else:
            if self.watching:  # a scan sees everything the log holds so far
                row = self.conn.execute(q.SEEN.encode(), prepare=True).fetchone()
                self._seen = int(row[0]) if row else self._seen
            self._scan(full)
        return Snapshot({root: family.items for root, family in self._families.items()})

    def _scan(self, full: bool) -> None:
        rows = self.conn.execute(self._token_query, prepare=True).fetchall()
        tokens = {(str(t), int(r)): (str(v), int(b)) for t, r, v, b in rows}
        roles = tokens.get(_ROLES) != self._tokens.get(_ROLES)
        if self.watching and tokens.get(_GLOBALS) != self._tokens.get(_GLOBALS):
            row = self.conn.execute(q.WATCHERS.encode()).fetchone()
            self.watching = bool(row and row[0] == 2)  # a migration dropped or disabled them
        if full or roles or not self._refresh(tokens):
            self._store(self._read(None), replace=True)
        self._tokens = tokens

    def _refresh(self, tokens: dict[Root, tuple[str, int]]) -> bool:
        """Reread the families whose token changed; False when everything must be reread."""
        dirty = {r: t[1] for r, t in tokens.items() if self._tokens.get(r) != t}
        return self._refresh_roots(dirty, gone=self._tokens.keys() - tokens.keys())

    def _refresh_roots(self, dirty: dict[Root, int], gone: Iterable[Root] = ()) -> bool:
        """Reread the ``dirty`` families (values: their kinds' bits), forget the ``gone`` ones;
        False when a rename means everything must be reread."""
        fresh = self._read(dirty) if dirty else {}
        for root, family in fresh.items():
            old = self._families.get(root)
            if old is not None and _renamed(old.idents, family.idents):
                return False
        for root in {*dirty, *gone}:
            self._drop(root)
        self._store(fresh)
        return True

    def _store(self, families: dict[Root, _Family], *, replace: bool = False) -> None:
        if replace:
            self._families, self._owner, self._parents = {}, {}, {}
        for root, family in families.items():
            self._families[root] = family
            for key in family.items:
                self._owner[key] = root
            parents = family.idents["r"].attr("parent tables") if "r" in family.idents else None
            if parents:
                self._parents[root] = parents

    def _drop(self, root: Root) -> None:
        family = self._families.pop(root, None)
        if family is not None:
            for key in family.items:
                if self._owner.get(key) == root:
                    del self._owner[key]
        self._parents.pop(root, None)

    # -- the DDL log -------------------------------------------------------------------------

    def _logged(self) -> tuple[dict[Root, int], set[Root]] | None:
        """The families the DDL log says changed, with their relatives and the bits of their
        kinds, and those that are gone; None when the log cannot tell (a GRANT, or the log
        itself was dropped)."""
        try:
            log = self.conn.execute(q.DRAIN.encode(), {"seen": self._seen}, prepare=True)
            entries = log.fetchall()
        except psycopg.errors.UndefinedTable:
            self.watching = False
            return None
        self._seen = max([self._seen, *(int(e[0]) for e in entries)])
        if len(entries) and self._seen % _LOG_TRIM < len(entries):
            # now and then, so reading the log never grows with the run
            self.conn.execute(q.TRIM.encode(), {"seen": self._seen}, prepare=True)
        changed = self._changed(entries)
        return None if changed is None else self._with_relatives(*changed)

    def _changed(
        self, entries: Sequence[tuple[Any, ...]]
    ) -> tuple[dict[Root, int], set[Root]] | None:
        """From log entries: the families still there, with their kinds' bits where known
        (-1: every kind), and the tables whose partitions or children changed too."""
        dirty: dict[Root, int] = {}
        parents: set[Root] = set()
        for _, dropped, objid, command, object_type, address, tag, root, bits, parent in entries:
            if dropped:
                for found in self._dropped(int(objid), str(object_type), address or []):
                    dirty.setdefault(found, -1)
            elif tag is not None:
                dirty[(str(tag), int(root))] = int(bits)
                if parent:
                    parents.add(("r", int(root)))
            elif objid is None and command in ("GRANT", "REVOKE"):
                return None  # the log says what kind of object, not which one
        return dirty, parents

    def _dropped(self, objid: int, object_type: str, address: Sequence[str]) -> list[Root]:
        """The family of a dropped object; [] for objects no snapshot kind shows."""
        if object_type in _ROOT_TAGS:
            root = (_ROOT_TAGS[object_type], objid)
            return [root] if root in self._families else []
        if object_type in _GLOBAL_TYPES:
            return [_GLOBALS]
        if len(address) < 2:
            return []
        name = f"{address[0]}.{address[1]}"
        keys = _MEMBER_KEYS.get(object_type, ())
        return [self._owner[k.format(name)] for k in keys if k.format(name) in self._owner]

    def _with_relatives(
        self, dirty: dict[Root, int], parents: set[Root]
    ) -> tuple[dict[Root, int], set[Root]]:
        """``dirty`` with each changed table's partitions and children, the tables typed
        after a changed type, and a table just detached from a changed parent, all with their
        kinds' bits; and the dirty families that no longer exist."""
        names = {_relation_name(self._families[r]) for r in dirty if r in self._families}
        ask = set(parents)
        for child, of in self._parents.items():
            if any(n and n in of.split(", ") for n in names):
                ask.add(child)
        ask |= {r for r, bits in dirty.items() if r[0] == "r" and bits == -1}
        types = [oid for tag, oid in dirty if tag == "T"]
        if ask or types:
            params = {"tables": [oid for _, oid in ask], "types": types}
            rows = self.conn.execute(self._relatives, params, prepare=True).fetchall()
            found = {("r", int(o)): int(b) for o, b in rows}
            dirty = {r: b for r, b in dirty.items() if r not in ask} | found
            return dirty, ask - found.keys()
        return dirty, set()

    def _read(self, roots: dict[Root, int] | None) -> dict[Root, _Family]:
        """The families ``roots`` (None: all; the values are their kinds' bits) as they are
        now; empty ones are left out."""
        wanted: dict[str, list[int]] = {}
        bits: dict[str, int] = {}
        for (tag, oid), kinds in (roots or {}).items():  # kinds -1: every kind
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


def _relation_name(family: _Family) -> str | None:
    item = family.idents.get("r")
    match = _RELATION_RE.fullmatch(item.key) if item is not None else None
    return match.group(1) if match else None


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
    # keys are unique in a snapshot: an object of a family both share is the same in both
    a, b = expected.families, actual.families
    changed = [r for r in a.keys() | b.keys() if a.get(r) is not b.get(r)]
    want = {k: v for r in changed for k, v in a.get(r, {}).items()}
    got = {k: v for r in changed for k, v in b.get(r, {}).items()}
    out = _whole(got, want, "extra", actual) + _whole(want, got, "missing", expected)
    for key in sorted(want.keys() & got.keys()):
        if want[key] != got[key]:
            out.extend(_changed(want[key], got[key]))
    return out


def _whole(
    present: Mapping[str, Item], absent: Mapping[str, Item], change: Change, side: Snapshot
) -> list[Difference]:
    only = {k for k in present if k not in absent}
    return [
        Difference(change, present[k])
        for k in sorted(only)
        if not _parent_also(present[k], present, only, side)
    ]


def _parent_also(item: Item, present: Mapping[str, Item], only: set[str], side: Snapshot) -> bool:
    parent = item.parent
    while parent is not None:
        if parent in only:
            return True
        up = present.get(parent) or side.items.get(parent)
        parent = up.parent if up is not None else None
    return False


def _changed(expected: Item, actual: Item) -> Iterable[Difference]:
    got = dict(actual.attrs)
    for name, value in expected.attrs:
        if got.get(name) != value:
            yield Difference("changed", expected, name, got.get(name), value)
