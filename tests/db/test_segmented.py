"""Files with statements that cannot run in a transaction: segments, progress, crashes, resume."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import psycopg

from tests.helpers import history, make_project, pair, query, run_cli, spawn, tables, wait_until

TWO_INDEXES = pair(
    1,
    "index_accounts",
    "CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, email text, name text);\n"
    "INSERT INTO accounts SELECT g, 'u' || g || '@x.org', 'n' || g FROM generate_series(1, 500) g;\n"
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_idx ON accounts (email);\n"
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_name_idx ON accounts (name);\n"
    "ALTER TABLE accounts ADD COLUMN IF NOT EXISTS note text;\n",
    "DROP INDEX CONCURRENTLY IF EXISTS accounts_name_idx;\n"
    "DROP INDEX CONCURRENTLY IF EXISTS accounts_email_idx;\n"
    "DROP TABLE IF EXISTS accounts;\n",
)


def index_validity(dsn: str) -> dict[str, bool]:
    rows = query(
        dsn,
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        " AND c.relname LIKE 'accounts_%_idx'",
    )
    return {str(r[0]): bool(r[1]) for r in rows}


def test_two_concurrent_index_builds_and_an_alter_apply(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, TWO_INDEXES)
    result = run_cli(project, "up", "--format", "json")
    assert result.code == 0, result.text
    doc = json.loads(result.out)["migrations"][0]
    assert doc["mode"] == "segmented"
    assert [s["transactional"] for s in doc["statements"]] == [True, True, False, False, True]
    assert index_validity(db_dsn) == {"accounts_email_idx": True, "accounts_name_idx": True}
    assert history(db_dsn) == [(1, "applied", 5)]
    assert query(db_dsn, "SELECT cardinality(statement_hashes) FROM public.sqlmig_history") == [
        (5,)
    ]


def test_segmented_down_reverts_and_removes_the_row(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, TWO_INDEXES)
    assert run_cli(project, "up").code == 0
    result = run_cli(project, "down")
    assert result.code == 0, result.text
    assert "accounts" not in tables(db_dsn)
    assert history(db_dsn) == []


def test_no_transaction_directive_runs_each_statement_in_autocommit(
    tmp_path: Path, db_dsn: str
) -> None:
    files = pair(
        1,
        "vacuum_and_seed",
        "-- sqlmig:no-transaction\n"
        "CREATE TABLE IF NOT EXISTS seeds (id int PRIMARY KEY);\n"
        "BEGIN;\nINSERT INTO seeds VALUES (1);\nINSERT INTO seeds VALUES (2);\nCOMMIT;\n"
        "VACUUM seeds;\n",
        "DROP TABLE IF EXISTS seeds;\n",
    )
    project = make_project(tmp_path, db_dsn, files)
    result = run_cli(project, "up", "--format", "json")
    assert result.code == 0, result.text
    statements = json.loads(result.out)["migrations"][0]["statements"]
    assert not any(s["transactional"] for s in statements)
    assert query(db_dsn, "SELECT count(*) FROM seeds") == [(2,)]


def test_begin_in_a_transactional_file_is_refused_before_anything_runs(
    tmp_path: Path, db_dsn: str
) -> None:
    files = pair(
        1,
        "explicit_tx",
        "BEGIN;\nCREATE TABLE IF NOT EXISTS t (id int);\nCOMMIT;\n",
        "DROP TABLE IF EXISTS t;\n",
    )
    project = make_project(tmp_path, db_dsn, files)
    result = run_cli(project, "up")
    assert result.code == 2
    assert "001_explicit_tx.up.sql:1:1" in result.err
    assert "sqlmig owns the transaction" in result.err
    assert "t" not in tables(db_dsn)


def test_failure_in_a_segment_leaves_failed_and_a_fixed_file_resumes(
    tmp_path: Path, db_dsn: str
) -> None:
    up = (
        "CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, email text);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_idx ON accounts (email);\n"
        "ALTER TABLE accounts ADD COLUMN IF NOT EXISTS nope nosuchtype;\n"
    )
    files = pair(1, "fails_late", up, "DROP TABLE IF EXISTS accounts;\n")
    project = make_project(tmp_path, db_dsn, files)
    failed = run_cli(project, "up")
    assert failed.code == 3
    assert "001_fails_late.up.sql:3:" in failed.err and "42704" in failed.err
    assert history(db_dsn) == [(1, "failed", 2)]
    status = json.loads(run_cli(project, "status", "--format", "json").out)
    assert status["migrations"][0]["state"] == "failed"

    fixed = up.replace("nosuchtype", "text")
    (project / "migrations" / "001_fails_late.up.sql").write_text(fixed)
    resumed = run_cli(project, "up")
    assert resumed.code == 0, resumed.text
    assert "resuming up after statement 2 of 3" in resumed.err
    assert history(db_dsn) == [(1, "applied", 3)]
    assert query(
        db_dsn,
        "SELECT checksum_up = encode(sha256(convert_to(%s, 'UTF8')), 'hex') FROM public.sqlmig_history",
        [fixed],
    ) == [(True,)]


def test_editing_a_statement_that_already_ran_blocks_resume(tmp_path: Path, db_dsn: str) -> None:
    up = (
        "CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, email text);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_idx ON accounts (email);\n"
        "SELECT 1/0;\n"
    )
    project = make_project(
        tmp_path, db_dsn, pair(1, "edit_done", up, "DROP TABLE IF EXISTS accounts;\n")
    )
    assert run_cli(project, "up").code == 3
    edited = up.replace("email text", "email varchar(200)").replace("SELECT 1/0", "SELECT 1")
    (project / "migrations" / "001_edit_done.up.sql").write_text(edited)
    refused = run_cli(project, "up")
    assert refused.code == 3
    assert "statement 1 (line 1) changed after it ran" in refused.err
    assert history(db_dsn) == [(1, "failed", 2)]


def _blocker(dsn: str) -> psycopg.Connection[tuple[object, ...]]:
    """An uncommitted write to accounts: CREATE INDEX CONCURRENTLY waits for it to end."""
    conn = psycopg.connect(dsn)
    conn.execute("INSERT INTO accounts VALUES (100000, 'b@x.org', 'b')")
    return conn


def _sqlmig_sessions(dsn: str) -> int:
    rows = query(
        dsn,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sqlmig' AND datname = current_database()",
    )
    return int(str(rows[0][0]))


def _backend_waiting_on_index(dsn: str) -> bool:
    # this test's database only: a build left running elsewhere on the server must not count
    rows = query(
        dsn, "SELECT count(*) FROM pg_stat_progress_create_index WHERE datname = current_database()"
    )
    return rows[0][0] == 1


def test_kill_during_concurrent_index_build_leaves_partial_then_resumes(
    tmp_path: Path, db_dsn: str
) -> None:
    project = make_project(tmp_path, db_dsn, TWO_INDEXES, lock_timeout="60s")
    query(db_dsn, "CREATE TABLE accounts (id int PRIMARY KEY, email text, name text)")
    blocker = _blocker(db_dsn)
    try:
        proc = spawn(project, "up")
        wait_until(lambda: _backend_waiting_on_index(db_dsn))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # the server notices the dead client (client_connection_check_interval) and aborts
        wait_until(lambda: _sqlmig_sessions(db_dsn) == 0)
    finally:
        blocker.close()
    assert history(db_dsn) == [(1, "partial", 2)]
    assert index_validity(db_dsn) == {"accounts_email_idx": False}
    status = json.loads(run_cli(project, "status", "--format", "json").out)
    assert status["migrations"][0]["state"] == "partial"

    resumed = run_cli(project, "up")
    assert resumed.code == 0, resumed.text
    assert "dropping INVALID index public.accounts_email_idx" in resumed.err
    assert index_validity(db_dsn) == {"accounts_email_idx": True, "accounts_name_idx": True}
    assert history(db_dsn) == [(1, "applied", 5)]


def test_kill_during_transactional_migration_leaves_no_trace(tmp_path: Path, db_dsn: str) -> None:
    slow = (
        "CREATE TABLE IF NOT EXISTS widgets (id int);\n"
        "DO $$ BEGIN IF to_regclass('public.slow_marker') IS NOT NULL THEN PERFORM pg_sleep(60); END IF; END $$;\n"
    )
    project = make_project(
        tmp_path, db_dsn, pair(1, "slow", slow, "DROP TABLE IF EXISTS widgets;\n")
    )
    query(db_dsn, "CREATE TABLE slow_marker ()")
    proc = spawn(project, "up")
    wait_until(
        lambda: (
            query(
                db_dsn,
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event = 'PgSleep' AND datname = current_database()",
            )
            == [(1,)]
        )
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    wait_until(lambda: _sqlmig_sessions(db_dsn) == 0)
    assert "widgets" not in tables(db_dsn)
    assert query(db_dsn, "SELECT count(*) FROM public.sqlmig_history") == [(0,)]

    query(db_dsn, "DROP TABLE slow_marker")
    result = run_cli(project, "up")
    assert result.code == 0, result.text
    assert "widgets" in tables(db_dsn)
    assert history(db_dsn) == [(1, "applied", 2)]
