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
  since the previous one, and of those only the kinds of objects they have: the families the
  DDL log of ``watch``'s event triggers names, or else those whose xmin sum changed. Everything
  is reread when a schema, relation, column, type, function, sequence, collation, enum label,
  extension or role was renamed or moved, since other objects' definitions show those names.
"""

from __future__ import annotations

import contextlib
import re
import select
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final, Literal

import psycopg
from psycopg import pq, sql
from psycopg.adapt import Transformer

from sqlmig.db import snapshot_sql as q
from sqlmig.db.connect import Conn

Change = Literal["extra", "missing", "changed"]
Root = tuple[str, int]  # a family: its tag and its root object's OID
# a family to read: the kinds with rows in it and those that changed (None: all of them)
Wanted = tuple[int | None, int | None]
Work = Callable[[], object]  # client work for while the server reads
Call = tuple[str, Sequence[str]]  # a prepared statement's name and its parameters, as text
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
class _Family:
    items: dict[str, Item]
    idents: dict[str, Item]  # objects whose names other objects' definitions show
    kinds: dict[int, list[tuple[str | None, Item]]]  # the objects of each kind, with idents


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
    comes out qualified). A snapshot costs two round trips: one statement says which families
    changed, which of their kinds changed and which have rows, then the prepared query of each
    of those kinds runs, all in one round trip (libpq's pipeline mode). After ``watch``, a
    snapshot the caller says is ``logged`` asks the DDL log what changed, at a cost that does
    not grow with the schema; any other asks the family tokens, whose cost does.

    Statements are prepared once (SQL ``PREPARE``) with generic plans: planning them costs
    more than running them for a few families. The catalogs' statistics are those of the
    template database and the plans are made while the schema is small, so the planner takes
    every catalog for a few rows and would scan or hash one whole for each family read:
    sequential scans, hash and merge joins are off on this connection, and every plan is
    nested loops over index probes, which cost what they read. They run through psycopg's
    libpq layer with text parameters: psycopg itself parses a query longer than 4 KiB for
    placeholders on every call, and it could not overlap the client's work with the read.
    """

    def __init__(self, conn: Conn, skip_tables: Sequence[str]) -> None:
        self.conn = conn
        # psycopg prepares nothing here: it deallocates every statement of the connection
        # when it sees a DROP, ALTER or ROLLBACK while it has some prepared
        conn.prepare_threshold = None
        self._loader = Transformer(conn)  # loads the rows of results ``_run`` reads itself
        self._meanwhile: Work | None = None
        conn.execute("SET search_path = pg_catalog")
        conn.execute("SET plan_cache_mode = force_generic_plan")
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin", "jit"):
            conn.execute(f"SET {setting} = off".encode())
        row = conn.execute(_SKIP, {"tables": list(skip_tables)}).fetchone()
        oids = [int(o) for o in row[0]] if row else []
        skip = f"'{{{','.join(map(str, oids))}}}'::oid[]"
        reads = q.reads(conn.info.server_version, skip)
        self._kinds = reads.kinds
        self._logged_sql = reads.logged
        # an xid older than any row a token will sum: the oldest transaction still running
        base = conn.execute("SELECT txid_snapshot_xmin(txid_current_snapshot())").fetchone()
        tokens = q.tokens(int(base[0]) % 2**32 if base else 3)
        self._run(
            f"PREPARE {_TOKENS} AS {tokens}",
            f"PREPARE {_WANTED}(oid[], oid[], oid[], boolean) AS {reads.wanted}",
            *(
                f"PREPARE {_KIND}{n}(oid[]) AS {k.some}"
                if k.some
                else f"PREPARE {_KIND}{n} AS {k.full}"
                for n, k in enumerate(self._kinds)
            ),
        )
        self._tables = _TABLES.format(skip=skip).encode()
        self._tokens: dict[Root, str] = {}
        self._families: dict[Root, _Family] = {}
        self._items: dict[Root, Mapping[str, Item]] = {}  # what a snapshot copies
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
        self._run(
            f"PREPARE {_LOGGED}(bigint) AS {self._logged_sql}",
            f"PREPARE {_SEEN} AS {q.SEEN}",
        )
        self.watching = True
        return True

    def snapshot(
        self, *, full: bool = False, logged: bool = False, meanwhile: Work | None = None
    ) -> Snapshot:
        """The schema now. ``logged``: every change since the previous snapshot was made by
        statements the DDL log sees: DDL in one transaction, touching no role and no event
        trigger (those are read whole by a scan). ``full`` reads every family again (tests
        check the increments against it). ``meanwhile``: client work done while the server
        reads the families (see ``_run``), or after the snapshot when none is read."""
        self._meanwhile = meanwhile
        snapshot = self._snapshot(full, logged)
        work, self._meanwhile = self._meanwhile, None
        if work is not None:
            with contextlib.suppress(Exception):
                work()
        return snapshot

    def _snapshot(self, full: bool, logged: bool) -> Snapshot:
        if logged and self.watching and not full and self._families:
            if not self._from_log():
                self._store(self._read(None), replace=True)
        else:
            if self.watching:  # a scan sees everything the log holds so far
                (rows,) = self._execute((_SEEN, ()))
                self._seen = int(rows[0][0]) if rows else self._seen
            self._scan(full)
        return Snapshot(dict(self._items))

    def _scan(self, full: bool) -> None:
        (rows,) = self._execute((_TOKENS, ()))
        tokens = {(str(t), int(r)): str(v) for t, r, v in rows}
        roles = tokens.get(_ROLES) != self._tokens.get(_ROLES)
        if self.watching and tokens.get(_GLOBALS) != self._tokens.get(_GLOBALS):
            row = self.conn.execute(q.WATCHERS.encode()).fetchone()
            self.watching = bool(row and row[0] == 2)  # a migration dropped or disabled them
        if full or roles or not self._families or not self._refresh(tokens):
            self._store(self._read(None), replace=True)
        self._tokens = tokens

    def _refresh(self, tokens: dict[Root, str]) -> bool:
        """Reread the families whose token changed; False when everything must be reread."""
        dirty = {r for r, t in tokens.items() if self._tokens.get(r) != t}
        gone = self._tokens.keys() - tokens.keys()
        if not dirty:
            return self._refresh_roots(gone, {})
        wanted = self._ask(dirty)
        return self._refresh_roots(dirty | wanted.keys() | gone, self._read(wanted))

    def _refresh_roots(self, roots: Iterable[Root], fresh: dict[Root, _Family]) -> bool:
        """Replace the families ``roots`` by those ``fresh`` (a root missing there is gone);
        False when a rename means everything must be reread."""
        for root, family in fresh.items():
            old = self._families.get(root)
            if old is not None and _renamed(old.idents, family.idents):
                return False
        for root in roots:
            self._drop(root)
        self._store(fresh)
        return True

    def _store(self, families: dict[Root, _Family], *, replace: bool = False) -> None:
        if replace:
            self._families, self._items, self._owner, self._parents = {}, {}, {}, {}
        for root, family in families.items():
            self._families[root] = family
            self._items[root] = family.items
            for key in family.items:
                self._owner[key] = root
            parents = family.idents["r"].attr("parent tables") if "r" in family.idents else None
            if parents:
                self._parents[root] = parents

    def _drop(self, root: Root) -> None:
        family = self._families.pop(root, None)
        if family is not None:
            del self._items[root]
            for key in family.items:
                if self._owner.get(key) == root:
                    del self._owner[key]
        self._parents.pop(root, None)

    # -- the DDL log -------------------------------------------------------------------------

    def _from_log(self) -> bool:
        """Reread the families the DDL log says changed; False when the log cannot tell (a
        GRANT names no object, or the log itself was dropped) or a rename means everything
        must be reread.

        The log's statement finds the families of the objects the log names that still
        exist. Those of dropped objects are known here, by name, from the snapshot before:
        any it did not find (an index dropped alone, say) are asked for by root.
        """
        try:
            (rows,) = self._execute((_LOGGED, (str(self._seen),)))
        except psycopg.errors.UndefinedTable:
            self.watching = False
            return False
        entries, wanted = _wanted(rows)
        if entries:
            self._seen = max(self._seen, *(int(e[0]) for e in entries))
            if self._seen % _LOG_TRIM < len(entries):  # now and then: the log never grows
                self._run(q.TRIM.format(seen=self._seen))
        changed = self._changed(entries)
        if changed is None:
            return False
        need, gone = changed
        for child in self._children(wanted.keys() | need.keys() | gone):
            need[child] = None
        missing = {
            r
            for r, kinds in need.items()
            if r not in gone and not (r in wanted and _covers(wanted[r][1], kinds))
        }
        if missing:
            wanted.update(self._ask(missing))
        fresh = self._read(wanted) if wanted else {}
        return self._refresh_roots(wanted.keys() | missing | gone, fresh)

    def _changed(
        self, entries: Sequence[Sequence[Any]]
    ) -> tuple[dict[Root, int | None], set[Root]] | None:
        """From log entries: the families of dropped objects that still exist, with the
        kinds that changed in each, and those gone with their root; None when the log cannot
        say what changed (a GRANT names the kind of object, not which one)."""
        need: dict[Root, int | None] = {}
        gone: set[Root] = set()
        for _, dropped, objid, command, object_type, name, normal in entries:
            if dropped == "true":
                if object_type in _ROOT_TAGS:
                    root = (_ROOT_TAGS[object_type], int(objid))
                    if root in self._families:
                        gone.add(root)
                elif object_type in _GLOBAL_TYPES:
                    need[_GLOBALS] = None
                elif name is not None and (normal == "true" or object_type != "trigger"):
                    # (a foreign key's triggers, hidden, are dropped with it, not normally)
                    kinds = q.DROPPED_KINDS.get(object_type)
                    for key in (k.format(name) for k in _MEMBER_KEYS.get(object_type, ())):
                        if key in self._owner:
                            root = self._owner[key]
                            need[root] = _union(need[root], kinds) if root in need else kinds
            elif objid is None and command in ("GRANT", "REVOKE"):
                return None
        return need, gone

    def _children(self, roots: Iterable[Root]) -> set[Root]:
        """The tables that were partitions or children of the relations ``roots`` at the
        snapshot before: one just detached no longer shows in ``pg_inherits``."""
        if not self._parents:
            return set()
        names = {_relation_name(self._families[r]) for r in roots if r in self._families}
        return {
            child
            for child, of in self._parents.items()
            if any(n and n in of.split(", ") for n in names)
        }

    # -- reading -----------------------------------------------------------------------------

    def _ask(self, roots: set[Root]) -> dict[Root, Wanted]:
        """The families ``roots`` that exist, with the partitions and children of each table
        and the tables typed after each type, each to read whole."""
        params = (
            _array(oid for tag, oid in roots if tag in ("r", "S")),
            _array(oid for tag, oid in roots if tag == "f"),
            _array(oid for tag, oid in roots if tag == "T"),
            "true" if _GLOBALS in roots else "false",
        )
        (rows,) = self._execute((_WANTED, params))
        return _wanted(rows)[1]

    def _read(self, roots: dict[Root, Wanted] | None) -> dict[Root, _Family]:
        """The families ``roots`` (None: all) as they are now; empty ones are left out.

        Of a family already read, only the kinds that changed are read again (the others are
        kept); of those, only the kinds with rows (a family that is not a table: every kind
        of its tag)."""
        if roots is None:
            # planned afresh (rare): a generic plan made for a small schema would be kept
            results = self._run(*(k.full for k in self._kinds))
            found = self._rows(range(len(self._kinds)), results)
            return {root: _family(kinds) for root, kinds in found.items()}
        # the kinds of each family that changed (None: all of them)
        changed = {r: w[1] if r in self._families else None for r, w in roots.items()}
        numbers: list[int] = []
        calls: list[Call] = []
        for n, kind in enumerate(self._kinds):
            bit = 1 << n
            oids = [
                oid
                for (tag, oid), (rows, _) in roots.items()
                if tag == kind.tag
                and (rows is None or rows & bit)
                and _covers(changed[(tag, oid)], bit)
            ]
            if oids:
                numbers.append(n)
                calls.append((f"{_KIND}{n}", (_array(oids),) if kind.some is not None else ()))
        work, self._meanwhile = self._meanwhile, None
        results = self._execute(*calls, meanwhile=work) if calls else []
        self._meanwhile = None if calls else work
        found = self._rows(numbers, results)
        out: dict[Root, _Family] = {}
        for root, kinds in changed.items():
            if kinds is not None:  # keep the kinds that did not change
                old = self._families[root].kinds
                kept = {n: rows for n, rows in old.items() if not kinds >> n & 1}
                found[root] = kept | found.get(root, {})
            if found.get(root):
                out[root] = _family(found[root])
        return out

    def _rows(
        self, numbers: Sequence[int], results: Sequence[Sequence[tuple[Any, ...]]]
    ) -> dict[Root, dict[int, list[tuple[str | None, Item]]]]:
        """The rows of kind queries (kind ``numbers[i]`` returned ``results[i]``): each
        family's objects, by kind, with their idents."""
        found: dict[Root, dict[int, list[tuple[str | None, Item]]]] = {}
        for n, rows in zip(numbers, results, strict=True):
            tag, names = self._kinds[n].tag, self._kinds[n].names
            for root, ident, key, parent, summary, *values in rows:
                item = Item(key, parent, summary or "", tuple(zip(names, values, strict=True)))
                found.setdefault((tag, root), {}).setdefault(n, []).append((ident, item))
        return found

    def _run(self, *statements: str) -> list[list[tuple[Any, ...]]]:
        """Run ``statements`` in one round trip, as one query string without parameters (the
        simple protocol); the rows of each that returns rows."""
        self.conn.pgconn.send_query(";\n".join(statements).encode())
        return self._results(None, lambda status: status is None)

    def _execute(self, *calls: Call, meanwhile: Work | None = None) -> list[list[tuple[Any, ...]]]:
        """Run prepared statements (name, text parameters) in one round trip, in libpq's
        pipeline mode; the rows of each.

        Through psycopg's libpq layer, so that ``meanwhile`` is called once they are sent: the
        client's work overlaps the server's. It is best effort, like the executor's: an
        exception it raises is dropped (the results must still be read), so it must only
        prepare work that is done again, with errors reported, when it is needed.
        """
        pg = self.conn.pgconn
        pg.enter_pipeline_mode()
        try:
            for name, params in calls:
                pg.send_query_prepared(name.encode(), [p.encode() for p in params])
            pg.pipeline_sync()
            return self._results(meanwhile, lambda status: status == pq.ExecStatus.PIPELINE_SYNC)
        finally:
            if pg.transaction_status == pq.TransactionStatus.IDLE:
                pg.exit_pipeline_mode()

    def _results(
        self, meanwhile: Work | None, last: Callable[[int | None], bool]
    ) -> list[list[tuple[Any, ...]]]:
        """The rows of each result of what was just sent, up to the ``last`` one (None: no
        more results); the first error raised once all are read."""
        pg = self.conn.pgconn
        while pg.flush():
            select.select([pg.socket], [pg.socket], [], 1.0)
            pg.consume_input()
        if meanwhile is not None:
            with contextlib.suppress(Exception):
                meanwhile()
        out: list[list[tuple[Any, ...]]] = []
        error: psycopg.Error | None = None
        while True:
            while pg.is_busy():
                select.select([pg.socket], [], [], 1.0)
                pg.consume_input()
            result = pg.get_result()
            status = None if result is None else result.status
            if last(status):
                break
            if result is None:
                continue  # the end of one statement's results in pipeline mode
            if status == pq.ExecStatus.TUPLES_OK:
                self._loader.set_pgresult(result)
                out.append(self._loader.load_rows(0, result.ntuples, tuple))
            elif status == pq.ExecStatus.FATAL_ERROR and error is None:
                error = psycopg.errors.error_from_result(result, encoding=self.conn.info.encoding)
        if error is not None:
            raise error
        return out

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


# the Reader's prepared statements
_KIND: Final = "sqlmig_kind"
_WANTED: Final = "sqlmig_wanted"
_LOGGED: Final = "sqlmig_logged"
_TOKENS: Final = "sqlmig_tokens"
_SEEN: Final = "sqlmig_seen"


def _array(oids: Iterable[int]) -> str:
    """An OID array, as text."""
    return "{" + ",".join(map(str, oids)) + "}"


def _wanted(rows: Iterable[Sequence[Any]]) -> tuple[list[Sequence[Any]], dict[Root, Wanted]]:
    """A statement saying what to read: its DDL log entries, and the families to read."""
    entries: list[Sequence[Any]] = []
    wanted: dict[Root, Wanted] = {}
    for row in rows:
        if row[0] == q.LOG_ROW:
            entries.append(row[2:9])
        else:
            root = (row[2], row[1])
            kinds = _union(wanted[root][1], row[10]) if root in wanted else row[10]
            wanted[root] = (row[9], kinds)
    return entries, wanted


def _covers(read: int | None, kinds: int | None) -> bool:
    """Whether reading kinds ``read`` reads ``kinds`` (None: every kind)."""
    return read is None or (kinds is not None and kinds & ~read == 0)


def _union(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a | b


def _family(kinds: dict[int, list[tuple[str | None, Item]]]) -> _Family:
    items: dict[str, Item] = {}
    idents: dict[str, Item] = {}
    for rows in kinds.values():
        for ident, item in rows:
            items[item.key] = item
            if ident is not None:
                idents[ident] = item
    return _Family(items, idents, kinds)


def _relation_name(family: _Family) -> str | None:
    item = family.idents.get("r")
    match = _RELATION_RE.fullmatch(item.key) if item is not None else None
    return match.group(1) if match else None


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
