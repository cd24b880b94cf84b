"""Statement kinds: what PostgreSQL refuses in a transaction block, and transaction control.

The expected values were checked against a PostgreSQL 15 server (``BEGIN; <statement>``
answering SQLSTATE 25001 or not) where the server could run the statement.
"""

from __future__ import annotations

import pytest

from sqlmig.sql.kinds import (
    NON_TRANSACTIONAL,
    is_concurrent_index_build,
    is_concurrent_reindex,
    is_transaction_control,
    is_transactional,
)

# (behaviour, statement, runs in a transaction block)
TRANSACTIONAL: list[tuple[str, str, bool]] = [
    ("plain DDL", "CREATE TABLE t (a int)", True),
    ("create index", "CREATE INDEX i ON t (a)", True),
    ("create index concurrently", "CREATE INDEX CONCURRENTLY i ON t (a)", False),
    ("unique, mixed case", "create Unique index Concurrently i on t (a)", False),
    ("unnamed concurrent build", "CREATE INDEX CONCURRENTLY ON t (a)", False),
    ("comments between the keywords", "CREATE /* c */ INDEX -- x\n CONCURRENTLY i ON t (a)", False),
    ("an index named concurrently is quoted", 'CREATE INDEX "concurrently" ON t (a)', True),
    ("drop index concurrently", "DROP INDEX CONCURRENTLY IF EXISTS i", False),
    ("drop index", "DROP INDEX i", True),
    ("reindex concurrently", "REINDEX TABLE CONCURRENTLY t", False),
    ("reindex with options", "REINDEX (VERBOSE) TABLE CONCURRENTLY x", False),
    ("reindex a table", "REINDEX TABLE t", True),
    ("reindex a table named concurrently in a schema", "REINDEX TABLE s.concurrently", True),
    ("reindex schema", "REINDEX SCHEMA public", False),
    ("reindex database", "REINDEX (VERBOSE) DATABASE app", False),
    ("reindex system", "reindex system app", False),
    ("detach partition concurrently", "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY", False),
    ("detach partition", "ALTER TABLE p DETACH PARTITION p1", True),
    ("detach partition finalize", "ALTER TABLE p DETACH PARTITION p1 FINALIZE", True),
    ("vacuum", "VACUUM", False),
    ("vacuum analyze a table", "vacuum (analyze, verbose) t", False),
    ("analyze alone", "ANALYZE t", True),
    ("cluster without a table", "CLUSTER", False),
    ("cluster verbose without a table", "CLUSTER VERBOSE", False),
    ("cluster a table", "CLUSTER t USING i", True),
    ("create database", "CREATE DATABASE app", False),
    ("drop database", "DROP DATABASE IF EXISTS app WITH (FORCE)", False),
    ("alter database set tablespace", "ALTER DATABASE app SET TABLESPACE fast", False),
    ("alter database set a parameter", "ALTER DATABASE app SET work_mem = '4MB'", True),
    ("create tablespace", "CREATE TABLESPACE fast LOCATION '/ssd'", False),
    ("drop tablespace", "DROP TABLESPACE fast", False),
    ("alter tablespace", "ALTER TABLESPACE fast RENAME TO quick", True),
    ("alter system", "ALTER SYSTEM SET work_mem = '8MB'", False),
    ("discard all", "DISCARD ALL", False),
    ("discard plans", "DISCARD PLANS", True),
    ("create subscription", "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p", False),
    (
        "create subscription without a slot",
        "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (create_slot = false)",
        True,
    ),
    (
        "create subscription with connect off",
        "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (enabled, connect = 'off')",
        True,
    ),
    (
        "create subscription with create_slot true",
        "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (create_slot = true)",
        False,
    ),
    ("drop subscription", "DROP SUBSCRIPTION IF EXISTS s", False),
    ("refresh publication", "ALTER SUBSCRIPTION s REFRESH PUBLICATION", False),
    (
        "refresh publication is refused even without copy_data",
        "ALTER SUBSCRIPTION s REFRESH PUBLICATION WITH (copy_data = false)",
        False,
    ),
    ("set publication refreshes", "ALTER SUBSCRIPTION s SET PUBLICATION p", False),
    (
        "set publication without refresh",
        "ALTER SUBSCRIPTION s ADD PUBLICATION p WITH (refresh = false)",
        True,
    ),
    ("subscription options", "ALTER SUBSCRIPTION s SET (slot_name = NONE)", True),
    ("failover option (PostgreSQL 17+)", "ALTER SUBSCRIPTION s SET (failover = true)", False),
    ("enable a subscription", "ALTER SUBSCRIPTION s ENABLE", True),
    ("refresh materialized view concurrently", "REFRESH MATERIALIZED VIEW CONCURRENTLY mv", True),
    ("alter type add value", "ALTER TYPE mood ADD VALUE 'meh'", True),
    ("commit prepared", "COMMIT PREPARED 'tx'", False),
    ("vacuum inside a function body", "CREATE FUNCTION f() AS $$ VACUUM $$ LANGUAGE sql", True),
    ("DO block", "DO $$ BEGIN COMMIT; END $$", True),
    ("starts with a parenthesis", "(SELECT 1)", True),
    ("comment before the first keyword", "/* nightly */ -- x\nVACUUM t", False),
    ("keyword only inside a string", "SELECT 'VACUUM'", True),
    (
        "options written without spaces",
        "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (CREATE_SLOT=FALSE)",
        True,
    ),
]


@pytest.mark.parametrize(
    ("sql", "expected"), [t[1:] for t in TRANSACTIONAL], ids=[t[0] for t in TRANSACTIONAL]
)
def test_knows_what_runs_in_a_transaction_block(sql: str, expected: bool) -> None:
    assert is_transactional(sql) is expected


CONTROL: list[tuple[str, str, bool]] = [
    ("begin", "BEGIN", True),
    ("begin with isolation level", "begin isolation level serializable", True),
    ("start transaction", "START TRANSACTION READ ONLY", True),
    ("commit", "COMMIT", True),
    ("commit and chain", "COMMIT AND CHAIN", True),
    ("end", "END", True),
    ("rollback to savepoint", "ROLLBACK TO SAVEPOINT a", True),
    ("abort", "ABORT", True),
    ("savepoint", "SAVEPOINT a", True),
    ("release", "RELEASE a", True),
    ("prepare transaction", "PREPARE TRANSACTION 'x'", True),
    ("commit prepared", "COMMIT PREPARED 'x'", True),
    ("a prepared statement", "PREPARE q AS SELECT 1", False),
    ("a DO block that commits", "DO $$ BEGIN COMMIT; END $$", False),
    (
        "a BEGIN ATOMIC body",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
        False,
    ),
    ("a column named begin", "SELECT begin FROM t", False),
    ("set transaction", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", False),
    ("leading comment", "/* go */ COMMIT", True),
]


@pytest.mark.parametrize(("sql", "expected"), [c[1:] for c in CONTROL], ids=[c[0] for c in CONTROL])
def test_recognises_transaction_control(sql: str, expected: bool) -> None:
    assert is_transaction_control(sql) is expected


INDEX_NAMES: list[tuple[str, str, str | None]] = [
    (
        "unquoted name folded",
        "CREATE INDEX CONCURRENTLY Users_Email ON users (email)",
        "users_email",
    ),
    (
        "quoted name kept",
        'CREATE UNIQUE INDEX CONCURRENTLY "Users Email" ON users (e)',
        "Users Email",
    ),
    ("doubled quote in a name", 'CREATE INDEX CONCURRENTLY "a""b" ON t (a)', 'a"b'),
    ("if not exists", "create index concurrently if not exists ix ON t (a)", "ix"),
    ("comments in between", "CREATE INDEX /*a*/ CONCURRENTLY -- b\n ix ON t (a)", "ix"),
    ("schema-qualified as written", 'CREATE INDEX CONCURRENTLY S."Ix" ON t (a)', "s.Ix"),
    ("name truncated like the server", f"CREATE INDEX CONCURRENTLY {'a' * 70} ON t (a)", "a" * 63),
    ("unnamed build", "CREATE INDEX CONCURRENTLY ON t (a)", None),
    ("not concurrent", "CREATE INDEX ix ON t (a)", None),
    ("other statement", "DROP INDEX CONCURRENTLY ix", None),
]


@pytest.mark.parametrize(
    ("sql", "expected"), [n[1:] for n in INDEX_NAMES], ids=[n[0] for n in INDEX_NAMES]
)
def test_names_the_index_a_concurrent_build_creates(sql: str, expected: str | None) -> None:
    assert is_concurrent_index_build(sql) == expected


def test_truncation_never_splits_a_character() -> None:
    name = "é" * 40  # 80 bytes
    assert is_concurrent_index_build(f"CREATE INDEX CONCURRENTLY {name} ON t (a)") == "é" * 31


@pytest.mark.parametrize(
    ("sql", "expected"),
    [("REINDEX INDEX CONCURRENTLY ix", True), ("REINDEX INDEX ix", False), ("VACUUM", False)],
)
def test_recognises_concurrent_reindex(sql: str, expected: bool) -> None:
    assert is_concurrent_reindex(sql) is expected


def test_every_documented_shape_is_refused_in_a_transaction() -> None:
    for shape in NON_TRANSACTIONAL:
        example = shape.pattern.replace("[()] ", "").replace("...", "x").replace(" $", "")
        example = " ".join(w.split("|")[0].strip("[]") for w in example.split())
        if shape.only_with:
            example += f" ({shape.only_with[0]} = true)"
        assert not is_transactional(example), shape.pattern
