"""The deploy lock: parallel deploys apply each migration once; a stuck holder is named; a
migration waiting for a table lock gives up after lock_timeout and retries."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

from sqlmig.db.lock import deploy_lock
from tests.helpers import history, make_project, pair, query, run_process, spawn, wait_until

GATE = 4242  # an advisory lock the test holds: migration 001 waits on it, under the deploy lock
GATED = {
    **pair(
        1,
        "one",
        f"SELECT pg_advisory_xact_lock({GATE});\nCREATE TABLE IF NOT EXISTS one (id int);\n",
        "DROP TABLE IF EXISTS one;\n",
    ),
    **pair(2, "two", "CREATE TABLE IF NOT EXISTS two (id int);\n", "DROP TABLE IF EXISTS two;\n"),
}
SLOWISH = GATED


def _gate(dsn: str) -> psycopg.Connection[tuple[object, ...]]:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("SET idle_session_timeout = 0")  # the test's own idle connection must live
    conn.execute("SELECT pg_advisory_lock(%s)", [GATE])
    return conn


def _waiting_at_gate(dsn: str) -> bool:
    rows = query(
        dsn,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        [GATE],
    )
    return rows == [(1,)]


def _sqlmig_sessions(dsn: str) -> int:
    rows = query(
        dsn,
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE application_name = 'sqlmig' AND datname = current_database()",
    )
    return int(str(rows[0][0]))


def test_two_ups_started_together_apply_each_migration_once(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, GATED)
    gate = _gate(db_dsn)
    try:
        first = spawn(project, "up")
        wait_until(lambda: _waiting_at_gate(db_dsn))  # the first holds the deploy lock
        second = spawn(project, "up")
        wait_until(lambda: _sqlmig_sessions(db_dsn) == 3)  # the second is polling for it
    finally:
        gate.close()
    outputs = [p.communicate(timeout=60) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert history(db_dsn) == [(1, "applied", 2), (2, "applied", 1)]
    events = query(db_dsn, "SELECT version, event FROM public.sqlmig_history_log ORDER BY id")
    assert events == [(1, "up"), (2, "up")]
    assert "applied 002_two" in outputs[0][1]
    assert "waiting up to 60s for the deploy lock" in outputs[1][1]
    assert "nothing to do" in outputs[1][1]


def test_lock_wait_gives_up_and_names_the_holder(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, SLOWISH)
    with deploy_lock(db_dsn, "public.sqlmig_history", wait_s=1):
        result = run_process(project, "up", "--lock-wait", "0.5")
    assert result.code == 3
    assert "another sqlmig holds the deploy lock" in result.err
    assert "pid " in result.err and "(sqlmig)" in result.err
    assert "hint:" in result.err
    assert query(db_dsn, "SELECT to_regclass('public.one')") == [(None,)]


LOCKING = pair(
    1,
    "add_column",
    "ALTER TABLE accounts ADD COLUMN IF NOT EXISTS note text;\n",
    "ALTER TABLE accounts DROP COLUMN IF EXISTS note;\n",
)


def _hold_lock(dsn: str) -> psycopg.Connection[tuple[object, ...]]:
    """A long transaction holding a lock that ALTER TABLE must wait for."""
    conn = psycopg.connect(dsn)
    conn.execute("SELECT * FROM accounts")
    return conn


def test_lock_timeout_rolls_back_and_retries_until_the_lock_is_free(
    tmp_path: Path, db_dsn: str
) -> None:
    query(db_dsn, "CREATE TABLE accounts (id int)")
    project = make_project(tmp_path, db_dsn, LOCKING, lock_timeout="300ms", lock_retries=5)
    blocker = _hold_lock(db_dsn)
    proc = spawn(project, "up")
    time.sleep(1.0)  # the first attempts time out while the blocker lives
    blocker.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "could not get a lock within lock_timeout (attempt 1 of 6); retrying" in err
    assert history(db_dsn) == [(1, "applied", 1)]


def test_lock_timeout_gives_up_after_the_configured_retries(tmp_path: Path, db_dsn: str) -> None:
    query(db_dsn, "CREATE TABLE accounts (id int)")
    project = make_project(tmp_path, db_dsn, LOCKING, lock_timeout="200ms", lock_retries=2)
    blocker = _hold_lock(db_dsn)
    try:
        result = run_process(project, "up")
    finally:
        blocker.close()
    assert result.code == 3
    assert result.err.count("retrying in") == 2
    assert "55P03" in result.err and "lock timeout" in result.err
    assert query(db_dsn, "SELECT count(*) FROM public.sqlmig_history") == [(0,)]
    assert query(
        db_dsn, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'note'"
    ) == [(0,)]


def test_the_deploy_lock_survives_a_short_idle_session_timeout(tmp_path: Path, db_dsn: str) -> None:
    """A role's idle_session_timeout does not end the idle lock connection mid-deploy."""
    dbname = db_dsn.rsplit("/", 1)[1]
    query(db_dsn, f"ALTER DATABASE {dbname} SET idle_session_timeout = '500ms'")
    project = make_project(tmp_path, db_dsn, GATED)
    gate = _gate(db_dsn)
    try:
        first = spawn(project, "up")
        wait_until(lambda: _waiting_at_gate(db_dsn))
        time.sleep(1.0)  # the first's lock connection now idles past the timeout
        second = spawn(project, "up", "--lock-wait", "30")
        wait_until(lambda: _sqlmig_sessions(db_dsn) == 3)
    finally:
        gate.close()
    _, err = first.communicate(timeout=30)
    _, err2 = second.communicate(timeout=30)
    assert first.returncode == 0, err
    assert second.returncode == 0, err2
    assert "nothing to do" in err2  # it waited for the first instead of running alongside
    events = query(db_dsn, "SELECT event FROM public.sqlmig_history_log")
    assert events == [("up",), ("up",)]
