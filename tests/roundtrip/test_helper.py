"""``sqlmig test`` with a second scratch database in a thread: the report is the one a single
database gives, and both databases are dropped however the run ends."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import make_conninfo

from sqlmig.db import roundtrip as rt
from tests.helpers import Result, make_project, pair, query, run_cli


def migrations(n: int, *, broken: frozenset[int] = frozenset()) -> dict[str, str]:
    """``n`` migrations, each building on the one before; those in ``broken`` leave a table
    behind after their down."""
    files: dict[str, str] = {}
    for v in range(1, n + 1):
        if v % 3 == 1:
            up, down = f"CREATE TABLE t{v} (id int PRIMARY KEY, v text);", f"DROP TABLE t{v};"
        elif v % 3 == 2:
            table = f"t{v - 1}"
            up = f"CREATE INDEX {table}_v_idx ON {table} (v);"
            down = f"DROP INDEX {table}_v_idx;"
        else:
            table = f"t{v - 2}"
            up = f"ALTER TABLE {table} ADD COLUMN note text;"
            down = f"ALTER TABLE {table} DROP COLUMN note;"
        if v in broken:
            down += f" CREATE TABLE left_behind_{v} (id int);"
        files.update(pair(v, f"step_{v}", up, down))
    return files


def scratch_databases(admin: str) -> set[str]:
    rows = query(admin, "SELECT datname FROM pg_database WHERE datname LIKE 'sqlmig_test_%'")
    return {str(r[0]) for r in rows}


@pytest.fixture
def helper(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second scratch database for a project of a few migrations, on any machine."""
    monkeypatch.setattr(rt, "HELPER_MIN", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def run(tmp_path: Path, admin: str, files: dict[str, str], name: str, *args: str) -> Result:
    project = make_project(tmp_path / name, None, files)
    return run_cli(project, "test", "--admin-dsn", admin, "--format", "json", *args)


def test_a_second_database_gives_the_report_of_one(
    tmp_path: Path, pg_admin_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = migrations(12, broken=frozenset({2, 10}))
    before = scratch_databases(pg_admin_dsn)
    one = run(tmp_path, pg_admin_dsn, files, "one")
    monkeypatch.setattr(rt, "HELPER_MIN", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    two = run(tmp_path, pg_admin_dsn, files, "two")
    assert "on a second one" in two.err
    assert "on a second one" not in one.err
    assert (two.code, json.loads(two.out)) == (one.code, json.loads(one.out))
    assert one.code == 1
    broken = [m["version"] for m in json.loads(one.out)["migrations"] if m["differences"]]
    assert broken == [2, 10]
    assert scratch_databases(pg_admin_dsn) == before


@pytest.mark.usefixtures("helper")
def test_from_a_version_the_second_database_applies_the_ones_before(
    tmp_path: Path, pg_admin_dsn: str
) -> None:
    result = run(tmp_path, pg_admin_dsn, migrations(12, broken=frozenset({11})), "p", "--from", "4")
    assert result.code == 1, result.text
    doc = json.loads(result.out)
    assert [m["version"] for m in doc["migrations"]] == list(range(4, 13))
    assert [m["version"] for m in doc["migrations"] if m["differences"]] == [11]


@pytest.mark.usefixtures("helper")
def test_an_up_that_fails_in_the_first_share_ends_the_run(
    tmp_path: Path, pg_admin_dsn: str
) -> None:
    files = {**migrations(12), **pair(3, "step_3", "ALTER TABLE missing ADD x int;", "SELECT 1;")}
    before = scratch_databases(pg_admin_dsn)
    result = run(tmp_path, pg_admin_dsn, files, "p")
    assert result.code == 3, result.text
    assert [m["version"] for m in json.loads(result.out)["migrations"]] == [1, 2, 3]
    assert scratch_databases(pg_admin_dsn) == before


@pytest.mark.usefixtures("helper")
def test_when_the_second_database_cannot_start_the_first_goes_on(
    tmp_path: Path, pg_admin_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = migrations(9, broken=frozenset({8}))
    monkeypatch.setattr(rt.Helper, "_round_trip_share", lambda self, *args: None)
    result = run(tmp_path, pg_admin_dsn, files, "p")
    assert result.code == 1, result.text
    doc = json.loads(result.out)
    assert [m["version"] for m in doc["migrations"]] == list(range(1, 10))
    assert [m["version"] for m in doc["migrations"] if m["differences"]] == [8]


@pytest.mark.usefixtures("helper")
def test_an_interrupt_drops_both_databases(tmp_path: Path, pg_admin_dsn: str) -> None:
    # the slow migration is the second database's: the first has finished and waits for it
    files = {**migrations(11), **pair(12, "slow", "SELECT pg_sleep(30);", "SELECT 1;")}
    before = scratch_databases(pg_admin_dsn)
    main = threading.get_ident()
    sent: list[Any] = []

    def interrupt_when_slow() -> None:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            sleeping = query(
                pg_admin_dsn,
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event = 'PgSleep' AND datname LIKE 'sqlmig_test_%'",
            )
            if sleeping == [(1,)]:
                sent.append(time.monotonic())
                signal.pthread_kill(main, signal.SIGINT)
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=interrupt_when_slow)
    watcher.start()
    try:
        result = run(tmp_path, pg_admin_dsn, files, "p")
    finally:
        watcher.join()
    assert sent, "the slow migration never started"
    assert result.code == 130, result.text
    assert time.monotonic() - sent[0] < 20  # the slow statement was cancelled
    assert scratch_databases(pg_admin_dsn) == before


@pytest.mark.usefixtures("helper")
def test_a_password_in_the_admin_dsn_reaches_no_output(tmp_path: Path, pg_admin_dsn: str) -> None:
    role, password = f"sqlmig_rt_helper_{os.getpid()}", "helper-secret-pw-7"
    query(pg_admin_dsn, f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'")
    try:
        admin = make_conninfo(pg_admin_dsn, user=role, password=password)
        files = migrations(9, broken=frozenset({8}))
        doc = run(tmp_path, admin, files, "json")
        text = run_cli(make_project(tmp_path / "text", None, files), "test", "--admin-dsn", admin)
    finally:
        query(pg_admin_dsn, f"DROP ROLE {role}")
    for result in (doc, text):
        assert result.code == 1, result.text
        assert "on a second one" in result.err  # the second database's share ran
        assert password not in result.text
