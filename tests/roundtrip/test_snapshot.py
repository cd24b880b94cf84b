"""Catalog snapshots on a real database: every object kind appears, a change to it is a
difference, and an incremental snapshot always equals one read from scratch."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from sqlmig.db import snapshot_sql as q
from sqlmig.db.connect import Conn, connect
from sqlmig.db.history import History
from sqlmig.db.snapshot import Reader, Snapshot, compare, logs

HISTORY = History("public", "sqlmig_history")


@dataclass(frozen=True)
class Case:
    name: str
    setup: str
    change: str
    key: str  # the object the change is about ({role}: the grantee)
    attr: str | None  # the attribute that differs; None: the object appears or disappears


TABLE = "CREATE TABLE t (id int, name text);"
FUNCTION = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;"
TRIGGER = (
    TABLE + "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW;"
    " END $$; CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();"
)
PARTITIONED = (
    "CREATE TABLE p (id int, d date) PARTITION BY RANGE (d);"
    " CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
)
EVENT_TRIGGER = (
    "CREATE FUNCTION etf() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;"
    " CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION etf();"
)

CASES = [
    Case("schema", "", "CREATE SCHEMA app;", "schema app", None),
    Case(
        "schema comment",
        "CREATE SCHEMA app;",
        "COMMENT ON SCHEMA app IS 'x';",
        "schema app",
        "comment",
    ),
    Case(
        "schema grant",
        "CREATE SCHEMA app;",
        "GRANT USAGE ON SCHEMA app TO {role};",
        "schema app",
        "grants",
    ),
    Case("table", "", TABLE, "table public.t", None),
    Case(
        "table persistence", TABLE, "ALTER TABLE t SET UNLOGGED;", "table public.t", "persistence"
    ),
    Case(
        "row level security",
        TABLE,
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        "table public.t",
        "row level security",
    ),
    Case(
        "forced row level security",
        TABLE,
        "ALTER TABLE t FORCE ROW LEVEL SECURITY;",
        "table public.t",
        "forced row level security",
    ),
    Case(
        "table options", TABLE, "ALTER TABLE t SET (fillfactor = 70);", "table public.t", "options"
    ),
    Case(
        "replica identity",
        TABLE,
        "ALTER TABLE t REPLICA IDENTITY FULL;",
        "table public.t",
        "replica identity",
    ),
    Case("table comment", TABLE, "COMMENT ON TABLE t IS 'x';", "table public.t", "comment"),
    Case("table grant", TABLE, "GRANT SELECT ON t TO {role};", "table public.t", "grants"),
    Case(
        "partition",
        "CREATE TABLE p (id int, d date) PARTITION BY RANGE (d);"
        " CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        "ALTER TABLE p DETACH PARTITION p1;",
        "table public.p1",
        "partition bound",
    ),
    Case(
        "column",
        TABLE,
        "ALTER TABLE t ADD COLUMN phone varchar(20);",
        "column public.t.phone",
        None,
    ),
    Case(
        "column type",
        TABLE,
        "ALTER TABLE t ALTER COLUMN name TYPE varchar(20);",
        "column public.t.name",
        "type",
    ),
    Case(
        "column default",
        TABLE,
        "ALTER TABLE t ALTER COLUMN name SET DEFAULT 'x';",
        "column public.t.name",
        "default",
    ),
    Case(
        "column not null",
        TABLE,
        "ALTER TABLE t ALTER COLUMN name SET NOT NULL;",
        "column public.t.name",
        "nullability",
    ),
    Case(
        "column identity",
        "CREATE TABLE t (id int NOT NULL);",
        "ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;",
        "column public.t.id",
        "identity",
    ),
    Case(
        "generated column",
        "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED);",
        "ALTER TABLE t DROP COLUMN b; ALTER TABLE t ADD COLUMN b int GENERATED ALWAYS AS (a * 3) STORED;",
        "column public.t.b",
        "generated",
    ),
    Case(
        "column collation",
        TABLE,
        'ALTER TABLE t ALTER COLUMN name TYPE text COLLATE "C";',
        "column public.t.name",
        "collation",
    ),
    Case(
        "column comment",
        TABLE,
        "COMMENT ON COLUMN t.name IS 'x';",
        "column public.t.name",
        "comment",
    ),
    Case(
        "column grant",
        TABLE,
        "GRANT UPDATE (name) ON t TO {role};",
        "column public.t.name",
        "grants",
    ),
    Case(
        "check constraint",
        TABLE + "ALTER TABLE t ADD CONSTRAINT t_pos CHECK (id > 0);",
        "ALTER TABLE t DROP CONSTRAINT t_pos; ALTER TABLE t ADD CONSTRAINT t_pos CHECK (id >= 0);",
        "constraint t_pos on table public.t",
        "definition",
    ),
    Case(
        "constraint validity",
        TABLE + "ALTER TABLE t ADD CONSTRAINT t_pos CHECK (id > 0) NOT VALID;",
        "ALTER TABLE t VALIDATE CONSTRAINT t_pos;",
        "constraint t_pos on table public.t",
        "validity",
    ),
    Case(
        "deferrable constraint",
        "CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE t (r_id int CONSTRAINT t_r_fk REFERENCES r);",
        "ALTER TABLE t ALTER CONSTRAINT t_r_fk DEFERRABLE INITIALLY DEFERRED;",
        "constraint t_r_fk on table public.t",
        "deferrability",
    ),
    Case(
        "foreign key",
        "CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE t (r_id int REFERENCES r);",
        "ALTER TABLE t DROP CONSTRAINT t_r_id_fkey;",
        "constraint t_r_id_fkey on table public.t",
        None,
    ),
    Case(
        "constraint comment",
        TABLE + "ALTER TABLE t ADD CONSTRAINT t_pos CHECK (id > 0);",
        "COMMENT ON CONSTRAINT t_pos ON t IS 'x';",
        "constraint t_pos on table public.t",
        "comment",
    ),
    Case("index", TABLE, "CREATE INDEX t_name_idx ON t (name);", "index public.t_name_idx", None),
    Case(
        "index dropped",
        TABLE + "CREATE INDEX t_name_idx ON t (name);",
        "DROP INDEX t_name_idx;",
        "index public.t_name_idx",
        None,
    ),
    Case(
        "index of a partitioned table",
        PARTITIONED,
        "CREATE INDEX p_id_idx ON p (id);",
        "index public.p1_id_idx",
        None,
    ),
    Case(
        "index of a partitioned table dropped",
        PARTITIONED + "CREATE INDEX p_id_idx ON p (id);",
        "DROP INDEX p_id_idx;",
        "index public.p1_id_idx",
        None,
    ),
    Case(
        "constraint renamed with its index",
        TABLE + "ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY (id);",
        "ALTER TABLE t RENAME CONSTRAINT t_pk TO t_key;",
        "constraint t_key on table public.t",
        None,
    ),
    Case(
        "index renamed with its constraint",
        TABLE + "ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY (id);",
        "ALTER INDEX t_pk RENAME TO t_key;",
        "constraint t_key on table public.t",
        None,
    ),
    Case(
        "table dropped with the foreign key to another",
        "CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE t (r_id int REFERENCES r);",
        "DROP TABLE t;",
        "table public.t",
        None,
    ),
    Case(
        "partial index predicate",
        TABLE + "CREATE INDEX t_name_idx ON t (name) WHERE name IS NOT NULL;",
        "DROP INDEX t_name_idx; CREATE INDEX t_name_idx ON t (name) WHERE name <> '';",
        "index public.t_name_idx",
        "definition",
    ),
    Case(
        "index comment",
        TABLE + "CREATE INDEX t_name_idx ON t (name);",
        "COMMENT ON INDEX t_name_idx IS 'x';",
        "index public.t_name_idx",
        "comment",
    ),
    Case(
        "view",
        TABLE + "CREATE VIEW v AS SELECT id FROM t;",
        "CREATE OR REPLACE VIEW v AS SELECT id, name FROM t;",
        "view public.v",
        "definition",
    ),
    Case(
        "materialized view",
        TABLE + "CREATE MATERIALIZED VIEW mv AS SELECT id FROM t WITH NO DATA;",
        "REFRESH MATERIALIZED VIEW mv;",
        "materialized view public.mv",
        "state",
    ),
    Case(
        "sequence",
        "CREATE SEQUENCE s;",
        "ALTER SEQUENCE s INCREMENT 5 CYCLE;",
        "sequence public.s",
        "increment",
    ),
    Case(
        "sequence owner",
        TABLE + "CREATE SEQUENCE s;",
        "ALTER SEQUENCE s OWNED BY t.id;",
        "sequence public.s",
        "owned by",
    ),
    Case(
        "function body",
        FUNCTION,
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;",
        "function public.f()",
        "body",
    ),
    Case(
        "function in sql standard",
        "CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a + 1; END;",
        "CREATE OR REPLACE FUNCTION g(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a + 2; END;",
        "function public.g(a integer)",
        "body",
    ),
    Case(
        "function volatility",
        FUNCTION,
        "ALTER FUNCTION f() STABLE;",
        "function public.f()",
        "volatility",
    ),
    Case(
        "function security",
        FUNCTION,
        "ALTER FUNCTION f() SECURITY DEFINER;",
        "function public.f()",
        "security",
    ),
    Case(
        "function settings",
        FUNCTION,
        "ALTER FUNCTION f() SET search_path = public;",
        "function public.f()",
        "settings",
    ),
    Case(
        "function grant",
        FUNCTION,
        "REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;",
        "function public.f()",
        "grants",
    ),
    Case(
        "procedure",
        "",
        "CREATE PROCEDURE pr() LANGUAGE sql AS $$ SELECT 1 $$;",
        "procedure public.pr()",
        None,
    ),
    Case(
        "trigger",
        TABLE
        + "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
        "CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();",
        "trigger trg on table public.t",
        None,
    ),
    Case(
        "trigger state",
        TRIGGER,
        "ALTER TABLE t DISABLE TRIGGER trg;",
        "trigger trg on table public.t",
        "state",
    ),
    Case(
        "trigger dropped",
        TRIGGER,
        "DROP TRIGGER trg ON t;",
        "trigger trg on table public.t",
        None,
    ),
    Case(
        "trigger comment",
        TRIGGER,
        "COMMENT ON TRIGGER trg ON t IS 'x';",
        "trigger trg on table public.t",
        "comment",
    ),
    Case(
        "rule",
        TABLE + "CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING;",
        "ALTER TABLE t DISABLE RULE r;",
        "rule r on table public.t",
        "state",
    ),
    Case(
        "policy",
        TABLE + "CREATE POLICY p ON t USING (id > 0);",
        "ALTER POLICY p ON t USING (id > 1);",
        "policy p on table public.t",
        "using",
    ),
    Case(
        "policy roles",
        TABLE + "CREATE POLICY p ON t USING (id > 0);",
        "ALTER POLICY p ON t TO {role};",
        "policy p on table public.t",
        "roles",
    ),
    Case(
        "enum labels",
        "CREATE TYPE e AS ENUM ('a', 'c');",
        "ALTER TYPE e ADD VALUE 'b' BEFORE 'c';",
        "type public.e",
        "labels",
    ),
    Case(
        "enum label renamed",
        "CREATE TYPE e AS ENUM ('a', 'c'); CREATE TABLE t (v e DEFAULT 'a');",
        "ALTER TYPE e RENAME VALUE 'a' TO 'z';",
        "column public.t.v",
        "default",
    ),
    Case(
        "composite type",
        "CREATE TYPE pt AS (x int, y int);",
        "ALTER TYPE pt ADD ATTRIBUTE z int;",
        "type public.pt",
        "attributes",
    ),
    Case(
        "range type",
        "CREATE TYPE fr AS RANGE (subtype = float8);",
        "COMMENT ON TYPE fr IS 'x';",
        "type public.fr",
        "comment",
    ),
    Case(
        "domain default",
        "CREATE DOMAIN d AS int;",
        "ALTER DOMAIN d SET DEFAULT 1;",
        "domain public.d",
        "default",
    ),
    Case(
        "domain not null",
        "CREATE DOMAIN d AS int;",
        "ALTER DOMAIN d SET NOT NULL;",
        "domain public.d",
        "nullability",
    ),
    Case(
        "domain constraint",
        "CREATE DOMAIN d AS int CONSTRAINT d_pos CHECK (VALUE > 0);",
        "ALTER DOMAIN d DROP CONSTRAINT d_pos;",
        "constraint d_pos on domain public.d",
        None,
    ),
    Case(
        "type grant",
        "CREATE TYPE e AS ENUM ('a');",
        "REVOKE USAGE ON TYPE e FROM PUBLIC;",
        "type public.e",
        "grants",
    ),
    Case("extension", "", "CREATE EXTENSION pg_trgm;", "extension pg_trgm", None),
    Case(
        "statistics",
        TABLE + "CREATE STATISTICS st ON id, name FROM t;",
        "COMMENT ON STATISTICS st IS 'x';",
        "statistics public.st",
        "comment",
    ),
    Case(
        "collation",
        "CREATE COLLATION c1 (provider = libc, locale = 'C');",
        "COMMENT ON COLLATION c1 IS 'x';",
        "collation public.c1",
        "comment",
    ),
    Case(
        "event trigger",
        EVENT_TRIGGER,
        "ALTER EVENT TRIGGER et DISABLE;",
        "event trigger et",
        "state",
    ),
    Case("table renamed", TABLE, "ALTER TABLE t RENAME TO t2;", "table public.t2", None),
    Case(
        "column renamed",
        TABLE + "CREATE VIEW v AS SELECT name FROM t;",
        "ALTER TABLE t RENAME COLUMN name TO title;",
        "view public.v",
        "definition",
    ),
    Case(
        "schema renamed",
        "CREATE SCHEMA app; CREATE TABLE app.t (id int);",
        "ALTER SCHEMA app RENAME TO app2;",
        "table app2.t",
        None,
    ),
    Case(
        "function renamed",
        TRIGGER,
        "ALTER FUNCTION touch() RENAME TO touched;",
        "trigger trg on table public.t",
        "definition",
    ),
]


@pytest.fixture
def conn(db_dsn: str) -> Iterator[Conn]:
    with connect(db_dsn) as c:
        yield c


@contextlib.contextmanager
def reading(db_dsn: str) -> Iterator[Reader]:
    """A snapshot reader on its own connection, closed at the end of the block."""
    skip = [HISTORY.table.as_string(None), HISTORY.log_table.as_string(None)]
    r = Reader(connect(db_dsn), skip)
    try:
        yield r
    finally:
        r.conn.close()


def fresh(db_dsn: str) -> Snapshot:
    """A snapshot read from scratch by a new reader, to check the incremental one against."""
    with reading(db_dsn) as r:
        return r.snapshot()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_change_to_each_object_kind_is_a_difference(
    conn: Conn, db_dsn: str, grantee: str, case: Case
) -> None:
    # two readers: one scans the catalog for changes, one asks its event triggers' DDL log
    with reading(db_dsn) as scanned, reading(db_dsn) as logged:
        assert logged.watch()
        setup = case.setup.format(role=grantee)
        if setup:
            conn.execute(setup.encode())
        before = scanned.snapshot(), logged.snapshot(logged=logs(setup))
        change = case.change.format(role=grantee)
        conn.execute(change.encode())
        after = scanned.snapshot(), logged.snapshot(logged=logs(change))
        full = scanned.snapshot(full=True)
    assert after[0] == full
    assert after[1] == full
    key = case.key.format(role=grantee)
    for b, a in zip(before, after, strict=True):
        found = {(d.item.key, d.attr) for d in compare(b, a)}
        assert (key, case.attr) in found, sorted(found)
        if case.attr is not None:
            assert key in b.items and key in a.items


def test_an_invalid_index_is_seen_as_invalid(conn: Conn, db_dsn: str) -> None:
    conn.execute("CREATE TABLE t (name text); INSERT INTO t VALUES ('a'), ('a');")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("CREATE UNIQUE INDEX CONCURRENTLY t_name_key ON t (name)")
    item = fresh(db_dsn).items["index public.t_name_key"]
    assert item.attr("validity") == "INVALID"


def test_what_is_not_schema_is_no_difference(conn: Conn, db_dsn: str, grantee: str) -> None:
    HISTORY.ensure(conn)
    conn.execute(
        "CREATE TABLE t (id serial PRIMARY KEY, name text); CREATE EXTENSION pg_trgm;"
        " INSERT INTO t (name) VALUES ('a');"
    )
    with reading(db_dsn) as r:
        before = r.snapshot()
        conn.execute("SELECT nextval('t_id_seq'); INSERT INTO t (name) VALUES ('b'); ANALYZE t;")
        conn.execute(f"ALTER TABLE t OWNER TO {grantee}")
        assert compare(before, r.snapshot()) == []
    keys = set(before.items)
    assert not any("sqlmig_history" in k for k in keys)  # sqlmig's own tables
    assert not any(k.startswith("function public.similarity") for k in keys)  # pg_trgm's
    assert "extension pg_trgm" in keys


def test_a_grant_and_its_revoke_read_as_never_granted(
    conn: Conn, db_dsn: str, grantee: str
) -> None:
    conn.execute("CREATE TABLE t (id int)")
    before = fresh(db_dsn)
    conn.execute(f"GRANT SELECT ON t TO {grantee}")
    conn.execute(f"REVOKE SELECT ON t FROM {grantee}")
    assert compare(before, fresh(db_dsn)) == []


def test_an_unchanged_database_reads_no_family_again(conn: Conn, db_dsn: str) -> None:
    conn.execute(TRIGGER)
    with reading(db_dsn) as r:
        first = r.snapshot()
        read: list[object] = []
        original = r._read
        r._read = lambda roots: read.append(roots) or original(roots)  # type: ignore[method-assign,func-returns-value]
        assert r.snapshot() == first
        assert read == []


def test_the_ddl_log_and_its_triggers_are_not_part_of_the_schema(conn: Conn, db_dsn: str) -> None:
    with reading(db_dsn) as r:
        before = r.snapshot()
        assert r.watch()
        conn.execute("CREATE TABLE t (id int)")
        after = r.snapshot(logged=True)
    assert {d.item.key for d in compare(before, after)} == {"table public.t"}
    assert not any("sqlmig_roundtrip" in key for key in after.items)


def test_a_migration_that_drops_the_log_falls_back_to_a_scan(conn: Conn, db_dsn: str) -> None:
    with reading(db_dsn) as r:
        assert r.watch()
        r.snapshot()
        change = "DROP EVENT TRIGGER sqlmig_roundtrip_commands; CREATE TABLE t (id int)"
        conn.execute(change.encode())
        assert not logs(change)
        after = r.snapshot(logged=logs(change))
        assert "table public.t" in after.items
        assert not r.watching


def test_each_kind_names_the_attributes_its_query_returns(conn: Conn) -> None:
    version = conn.info.server_version
    reads = q.reads(version, "'{}'::oid[]")
    conn.execute("SET search_path = pg_catalog")
    for kind, read in zip(q.kinds(version), reads.kinds, strict=True):
        query = kind.template.format(only="", skip="'{}'::oid[]", first=q.FIRST_USER_OID)
        cur = conn.execute(f"SELECT * FROM ({query}) s LIMIT 0".encode())
        columns = [c.name for c in cur.description or ()]
        assert len(columns) == 5 + len(read.names)
        assert tuple(columns[5:]) == read.names


def test_a_family_is_read_with_its_partitions_and_children(conn: Conn, db_dsn: str) -> None:
    conn.execute(
        "CREATE TABLE p (id int, v text) PARTITION BY RANGE (id);"
        " CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10) PARTITION BY RANGE (id);"
        " CREATE TABLE p11 PARTITION OF p1 FOR VALUES FROM (0) TO (5);"
        " CREATE TABLE base (id int); CREATE TABLE child () INHERITS (base);"
    )
    with reading(db_dsn) as r:
        assert r.watch()
        r.snapshot()
        change = "ALTER TABLE p ADD COLUMN w int; ALTER TABLE base ADD COLUMN w int;"
        conn.execute(change.encode())
        after = r.snapshot(logged=logs(change))
    assert after == fresh(db_dsn)
    for table in ("p", "p1", "p11", "base", "child"):
        assert f"column public.{table}.w" in after.items
