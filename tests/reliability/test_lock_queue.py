"""A migration must never queue behind a long transaction and stall the application's writers.

A blocker holds a lock on a hot table; writers insert into it in a loop; `sqlmig up` runs an
ALTER TABLE on it. With lock_timeout the ALTER gives up its place in the lock queue after the
timeout, backs off and retries, so the writers' worst wait stays near the timeout. With
lock_timeout 0 the ALTER waits for the blocker, and every writer waits behind it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.helpers import make_project, pair, query, spawn

BLOCKER_S = 4.0
LOCK_TIMEOUT_S = 0.5
ALTER = pair(
    1,
    "add_note",
    "ALTER TABLE hot ADD COLUMN IF NOT EXISTS note text;\n",
    "ALTER TABLE hot DROP COLUMN IF EXISTS note;\n",
)


@contextmanager
def writers(dsn: str, count: int = 2) -> Iterator[Callable[[], float]]:
    """Writers inserting into ``hot`` until the block ends; yields a reader of the worst wait."""
    stop = threading.Event()
    worst = [0.0] * count

    def write(slot: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for _ in range(100_000):  # bounded: the block ends long before
                if stop.is_set():
                    return
                began = time.monotonic()
                conn.execute("INSERT INTO hot (at) VALUES (now())")
                worst[slot] = max(worst[slot], time.monotonic() - began)
                time.sleep(0.01)

    threads = [threading.Thread(target=write, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    try:
        yield lambda: max(worst)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)


def _blocker(dsn: str) -> psycopg.Connection[tuple[object, ...]]:
    """A long read transaction: ALTER TABLE must wait for it; plain inserts need not."""
    conn = psycopg.connect(dsn)
    conn.execute("SELECT count(*) FROM hot")
    return conn


def _run_with_blocker(
    tmp_path: Path, dsn: str, lock_timeout: str, retries: int
) -> tuple[int, str, float]:
    query(dsn, "CREATE TABLE IF NOT EXISTS hot (id bigserial PRIMARY KEY, at timestamptz)")
    project = make_project(tmp_path, dsn, ALTER, lock_timeout=lock_timeout, lock_retries=retries)
    with writers(dsn) as worst:
        time.sleep(0.3)  # writers are flowing
        blocker = _blocker(dsn)
        proc = spawn(project, "up")
        time.sleep(BLOCKER_S)
        blocker.close()
        _, err = proc.communicate(timeout=60)
        time.sleep(0.3)
        return proc.returncode, err, worst()


def test_writers_wait_no_longer_than_the_lock_timeout(
    tmp_path: Path, db_dsn: str, record_property: Callable[[str, object], None]
) -> None:
    code, err, worst = _run_with_blocker(tmp_path, db_dsn, f"{int(LOCK_TIMEOUT_S * 1000)}ms", 5)
    record_property("writers_worst_wait_s", round(worst, 3))
    assert code == 0, err
    assert "retrying" in err  # it did meet the blocker and step aside
    assert query(
        db_dsn, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'note'"
    ) == [(1,)]
    assert worst < LOCK_TIMEOUT_S + 1.0, f"writers waited {worst:.2f}s"


def test_without_lock_timeout_writers_stall_behind_the_migration(
    tmp_path: Path, db_dsn: str, record_property: Callable[[str, object], None]
) -> None:
    code, err, worst = _run_with_blocker(tmp_path, db_dsn, "0", 0)
    record_property("writers_worst_wait_s", round(worst, 3))
    assert code == 0, err
    assert worst > BLOCKER_S - 1.5, f"writers waited only {worst:.2f}s"


def test_the_migration_session_runs_with_the_configured_lock_timeout(
    tmp_path: Path, db_dsn: str
) -> None:
    up = "CREATE TABLE IF NOT EXISTS seen AS SELECT current_setting('lock_timeout') AS v;\n"
    files = pair(1, "show", up, "DROP TABLE IF EXISTS seen;\n")
    project = make_project(tmp_path, db_dsn, files, lock_timeout="500ms")
    assert spawn(project, "up").wait(timeout=30) == 0
    assert query(db_dsn, "SELECT v FROM seen") == [("500ms",)]
