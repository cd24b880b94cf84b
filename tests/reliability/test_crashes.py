"""Crashes at every statement boundary, a terminated session and a server restart: afterwards the
schema is before or after the migration (or a partial one that resumes), `status` says which,
and the next `up` completes. An INVALID index is never reported as success."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import psycopg
import pytest

from sqlmig.db.snapshot import Reader, Snapshot, compare
from sqlmig.embedded import TEST_SETTINGS, Cluster
from tests.helpers import Result, make_project, pair, query, run_cli, run_process, spawn, wait_until

TRANSACTIONAL = pair(
    1,
    "accounts",
    "CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, email text);\n"
    "INSERT INTO accounts VALUES (1, 'a@x.org'), (2, 'b@x.org');\n"
    "CREATE INDEX IF NOT EXISTS accounts_email_idx ON accounts (email);\n",
    "DROP TABLE IF EXISTS accounts;\n",
)

# segments: [0, 1] in one transaction, [2] alone, [3] alone, [4] in a transaction
HISTORY_TABLES = ["public.sqlmig_history", "public.sqlmig_history_log"]

SEGMENTED = pair(
    1,
    "accounts",
    "CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, email text, name text);\n"
    "INSERT INTO accounts SELECT g, 'u' || g, 'n' || g FROM generate_series(1, 100) g;\n"
    "CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);\n"
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_name_idx ON accounts (name);\n"
    "ALTER TABLE accounts ADD COLUMN IF NOT EXISTS note text;\n",
    "DROP INDEX CONCURRENTLY IF EXISTS accounts_name_idx;\n"
    "DROP INDEX CONCURRENTLY IF EXISTS accounts_email_idx;\n"
    "DROP TABLE IF EXISTS accounts;\n",
)


def schema(dsn: str) -> Snapshot:
    """A full catalog snapshot (the one `sqlmig test` compares), without sqlmig's own tables."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return Reader(conn, HISTORY_TABLES).snapshot(full=True)


def assert_schema(dsn: str, expected: Snapshot) -> None:
    differences = [(d.change, d.item.key, d.attr) for d in compare(expected, schema(dsn))]
    assert differences == []


def index_valid(dsn: str, name: str) -> bool:
    return schema(dsn).items[f"index public.{name}"].attr("validity") == "valid"


def state(project: Path) -> str:
    """What `sqlmig status` says of migration 1."""
    doc = json.loads(run_cli(project, "status", "--format", "json").out)
    return str(doc["migrations"][0]["state"])


def done(dsn: str) -> int | None:
    rows = query(dsn, "SELECT statements_done FROM public.sqlmig_history WHERE version = 1")
    return int(str(rows[0][0])) if rows else None


def crash(project: Path, point: str, *args: str) -> None:
    result = run_process(project, *args, env={"SQLMIG_FAILPOINT": point})
    assert result.code == -signal.SIGKILL, f"{point} was not reached: {result.text}"


def reference(tmp_path: Path, dsn: str, files: dict[str, str]) -> Snapshot:
    """The schema a clean `up` produces, measured on the same database and then reverted."""
    project = make_project(tmp_path / "reference", dsn, files)
    assert run_cli(project, "up").code == 0
    after = schema(dsn)
    assert run_cli(project, "down").code == 0
    query(dsn, "DROP TABLE public.sqlmig_history, public.sqlmig_history_log")
    return after


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ("before-migration", "pending"),
        ("after-statements", "pending"),
        ("after-history", "pending"),
        ("after-commit", "applied"),
    ],
)
def test_kill_in_a_transactional_migration(
    tmp_path: Path, db_dsn: str, point: str, expected: str
) -> None:
    after = reference(tmp_path, db_dsn, TRANSACTIONAL)
    before = schema(db_dsn)
    project = make_project(tmp_path / "p", db_dsn, TRANSACTIONAL)
    crash(project, point, "up")
    assert_schema(db_dsn, after if expected == "applied" else before)
    assert state(project) == expected
    result = run_cli(project, "up")
    assert result.code == 0, result.text
    assert_schema(db_dsn, after)
    assert query(db_dsn, "SELECT count(*) FROM accounts") == [(2,)]


SEGMENT_POINTS = [
    ("before-migration", None),
    ("after-statement:1", 0),  # inside the first transaction: rolled back
    ("after-statement:2", 0),
    ("after-segment:1", 2),
    ("after-statement:3", 2),  # index built, progress not recorded: resume must accept it
    ("after-segment:2", 3),
    ("after-statement:4", 3),
    ("after-segment:3", 4),
    ("after-statement:5", 4),
    ("after-segment:4", 5),  # every statement done, the row not yet marked applied
    ("after-commit", 5),
]


@pytest.mark.parametrize(("point", "statements_done"), SEGMENT_POINTS)
def test_kill_in_a_segmented_migration_resumes(
    tmp_path: Path, db_dsn: str, point: str, statements_done: int | None
) -> None:
    after = reference(tmp_path, db_dsn, SEGMENTED)
    project = make_project(tmp_path / "p", db_dsn, SEGMENTED)
    crash(project, point, "up")
    assert done(db_dsn) == statements_done
    if point == "after-commit":
        expected = "applied"
    else:
        expected = "pending" if statements_done is None else "partial"
    assert state(project) == expected
    result = run_cli(project, "up")
    assert result.code == 0, result.text
    if point == "after-statement:3":
        assert "index accounts_email_idx was already built; moving on" in result.err
    assert_schema(db_dsn, after)
    assert index_valid(db_dsn, "accounts_email_idx")
    assert done(db_dsn) == 5


def test_kill_in_a_segmented_down_resumes_with_down(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, SEGMENTED)
    before = schema(db_dsn)
    assert run_cli(project, "up").code == 0
    crash(project, "after-segment:1", "down")
    assert state(project) == "partial"
    refused = run_cli(project, "up")
    assert refused.code == 3 and "run 'sqlmig down'" in refused.err
    result = run_cli(project, "down")
    assert result.code == 0, result.text
    assert "resuming down after statement 1" in result.err
    assert_schema(db_dsn, before)
    assert done(db_dsn) is None


SLOW = (
    "CREATE TABLE IF NOT EXISTS widgets (id int);\n"
    "DO $$ BEGIN IF to_regclass('public.slow_marker') IS NOT NULL"
    " THEN PERFORM pg_sleep(30); END IF; END $$;\n"
)


def _sleeping(dsn: str) -> bool:
    rows = query(
        dsn,
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event = 'PgSleep' AND datname = current_database()",
    )
    return rows == [(1,)]


def test_terminated_migration_session_is_rolled_back_and_reported(
    tmp_path: Path, db_dsn: str
) -> None:
    project = make_project(
        tmp_path, db_dsn, pair(1, "slow", SLOW, "DROP TABLE IF EXISTS widgets;\n")
    )
    query(db_dsn, "CREATE TABLE slow_marker ()")
    proc = spawn(project, "up")
    wait_until(lambda: _sleeping(db_dsn))
    query(
        db_dsn,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE wait_event = 'PgSleep' AND datname = current_database()",
    )
    out, err = proc.communicate(timeout=30)
    result = Result(proc.returncode, out, err)
    assert result.code == 3, result.text
    assert "001_slow.up.sql: lost the connection to the server" in result.err
    assert "Traceback" not in result.text
    assert state(project) == "pending"
    query(db_dsn, "DROP TABLE slow_marker")
    assert run_cli(project, "up").code == 0
    assert state(project) == "applied"


def test_server_restart_in_the_middle_of_a_migration(reachable_tmp_path: Path) -> None:
    cluster = Cluster(reachable_tmp_path / "data", settings=TEST_SETTINGS)
    cluster.init()
    cluster.start()
    try:
        dsn = cluster.url("postgres")
        project = make_project(
            reachable_tmp_path / "p", dsn, pair(1, "slow", SLOW, "DROP TABLE IF EXISTS widgets;\n")
        )
        query(dsn, "CREATE TABLE slow_marker ()")
        proc = spawn(project, "up")
        wait_until(lambda: _sleeping(dsn))
        cluster.stop(mode="fast")
        cluster.start()
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 3, err
        assert "lost the connection" in err or "cannot connect" in err, err
        assert state(project) == "pending"
        assert query(dsn, "SELECT to_regclass('public.widgets')") == [(None,)]
        query(dsn, "DROP TABLE slow_marker")
        assert run_cli(project, "up").code == 0
        assert state(project) == "applied"
    finally:
        cluster.stop(mode="immediate")


def test_a_failed_unique_index_build_is_a_failure_and_is_rebuilt_next_time(
    tmp_path: Path, db_dsn: str
) -> None:
    """An INVALID index left by a failed CREATE UNIQUE INDEX CONCURRENTLY is never a success."""
    files = pair(
        1,
        "unique_email",
        "CREATE TABLE IF NOT EXISTS people (id int PRIMARY KEY, email text);\n"
        "INSERT INTO people VALUES (1, 'same@x.org'), (2, 'same@x.org') ON CONFLICT DO NOTHING;\n"
        "CREATE UNIQUE INDEX CONCURRENTLY people_email_key ON people (email);\n",
        "DROP TABLE IF EXISTS people;\n",
    )
    project = make_project(tmp_path, db_dsn, files)
    failed = run_cli(project, "up")
    assert failed.code == 3
    assert "001_unique_email.up.sql:3:1: 23505" in failed.err
    assert state(project) == "failed"
    assert query(
        db_dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'people_email_key'::regclass"
    ) == [(False,)]

    query(db_dsn, "UPDATE people SET email = 'other@x.org' WHERE id = 2")
    fixed = run_cli(project, "up")
    assert fixed.code == 0, fixed.text
    assert "dropping INVALID index public.people_email_key" in fixed.err
    assert query(
        db_dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'people_email_key'::regclass"
    ) == [(True,)]
    assert state(project) == "applied"
