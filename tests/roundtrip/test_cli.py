"""``sqlmig test`` options, exit codes, JSON, no-transaction ups run twice, and cleanup."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo

from tests.helpers import make_project, pair, query, spawn
from tests.roundtrip.conftest import RoundTrip, report

GOOD = {
    **pair(
        1,
        "create_accounts",
        "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL);",
        "DROP TABLE accounts;",
    ),
    **pair(
        2,
        "index_email",
        "CREATE INDEX accounts_email_idx ON accounts (email);",
        "DROP INDEX accounts_email_idx;",
    ),
    **pair(
        3,
        "add_note",
        "ALTER TABLE accounts ADD COLUMN note text;",
        "ALTER TABLE accounts DROP COLUMN note;",
    ),
}


def scratch_databases(admin: str) -> list[str]:
    rows = query(admin, "SELECT datname FROM pg_database WHERE datname LIKE 'sqlmig_test_%'")
    return [str(r[0]) for r in rows]


def test_json_document_has_the_documented_shape(roundtrip: RoundTrip) -> None:
    result = roundtrip(GOOD, "--format", "json")
    assert result.code == 0, result.text
    doc = json.loads(result.out)
    assert doc["error"] is None
    assert doc["migrations"] == [
        {"version": v, "name": n, "ok": True, "differences": [], "skipped": None}
        for v, n in [(1, "create_accounts"), (2, "index_email"), (3, "add_note")]
    ]


def test_only_tests_one_version_after_applying_the_ones_before(roundtrip: RoundTrip) -> None:
    result = roundtrip(GOOD, "--only", "2", "--format", "json")
    assert result.code == 0, result.text
    assert [m["version"] for m in json.loads(result.out)["migrations"]] == [2]


def test_from_tests_that_version_and_every_later_one(roundtrip: RoundTrip) -> None:
    result = roundtrip(GOOD, "--from", "2", "--format", "json")
    assert result.code == 0, result.text
    assert [m["version"] for m in json.loads(result.out)["migrations"]] == [2, 3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--only", "9"), "--only 9: no migration has version 9"),
        (("--from", "9"), "--from 9: no migration from version 9 on"),
        (("--only", "1", "--from", "1"), "not allowed with argument"),
    ],
)
def test_bad_version_options_are_usage_errors(
    roundtrip: RoundTrip, args: tuple[str, ...], message: str
) -> None:
    result = roundtrip(GOOD, *args)
    assert result.code == 2, result.text
    assert message in result.err
    assert "hint: " in result.err


def test_a_broken_file_is_exit_2_before_any_database_work(
    roundtrip: RoundTrip, pg_admin_dsn: str
) -> None:
    files = {**GOOD, **pair(4, "begin", "BEGIN;\nSELECT 1;\nCOMMIT;", "SELECT 1;")}
    before = scratch_databases(pg_admin_dsn)
    result = roundtrip(files)
    assert result.code == 2, result.text
    assert "004_begin.up.sql:1:1: BEGIN in a migration" in result.err
    assert scratch_databases(pg_admin_dsn) == before


def test_the_scratch_database_is_dropped_on_success_and_on_failure(
    roundtrip: RoundTrip, pg_admin_dsn: str
) -> None:
    before = scratch_databases(pg_admin_dsn)
    assert roundtrip(GOOD).code == 0
    broken = {**GOOD, **pair(4, "broken", "SELECT nope;", "SELECT 1;")}
    assert roundtrip(broken).code == 3
    assert scratch_databases(pg_admin_dsn) == before


def test_an_irreversible_migration_is_skipped_and_counts_as_ok(roundtrip: RoundTrip) -> None:
    files = {
        **GOOD,
        **pair(4, "drop_note", "ALTER TABLE accounts DROP COLUMN note;", ""),
    }
    files["004_drop_note.down.sql"] = "-- sqlmig:irreversible the notes are gone\n"
    result = roundtrip(files, "--format", "json")
    assert result.code == 0, result.text
    assert report(result, 4)["skipped"] == "irreversible: the notes are gone"
    text = roundtrip(files)
    assert "skip 004_drop_note (irreversible: the notes are gone)" in text.out
    assert text.out.splitlines()[-1].endswith("every down reverses its up (1 skipped)")


def test_a_down_that_fails_is_a_finding_and_the_run_goes_on(roundtrip: RoundTrip) -> None:
    files = {
        **GOOD,
        **pair(4, "typo_in_down", "CREATE TABLE notes (id int);", "DROP TABLE notez;"),
        **pair(5, "after_it", "CREATE TABLE later (id int);", "DROP TABLE later;"),
    }
    result = roundtrip(files, "--format", "json")
    assert result.code == 1, result.text
    (difference,) = report(result, 4)["differences"]
    assert difference.startswith("down of 004_typo_in_down failed: ")
    assert '004_typo_in_down.down.sql:1:1: 42P01 table "notez" does not exist' in difference
    assert report(result, 5)["ok"] is True


# -- no-transaction ups: every statement a resume could repeat runs twice -------------------


def test_a_no_transaction_up_that_inserts_twice_is_reported(roundtrip: RoundTrip) -> None:
    files = pair(
        1,
        "seed",
        "-- sqlmig:no-transaction\n"
        "CREATE TABLE IF NOT EXISTS seeds (id int);\n"
        "INSERT INTO seeds VALUES (1);\n",
        "DROP TABLE IF EXISTS seeds;\n",
    )
    result = roundtrip(files, "--format", "json")
    assert result.code == 1, result.text
    assert report(result, 1)["differences"] == [
        "after an up of 001_seed that ran each statement twice, as a resume may:"
        " table public.seeds has 2 rows, expected 1"
    ]


def test_a_no_transaction_statement_that_fails_when_repeated_is_reported(
    roundtrip: RoundTrip,
) -> None:
    files = {
        **GOOD,
        **pair(
            4,
            "index_note",
            "-- sqlmig:no-transaction\nCREATE INDEX CONCURRENTLY accounts_note_idx ON accounts (note);\n",
            "DROP INDEX CONCURRENTLY IF EXISTS accounts_note_idx;\n",
        ),
    }
    result = roundtrip(files, "--format", "json")
    assert result.code == 1, result.text
    (difference,) = report(result, 4)["differences"]
    assert difference.startswith("up of 004_index_note is not safe to resume:")
    assert '004_index_note.up.sql:2:1: 42P07 relation "accounts_note_idx" already exists' in (
        difference
    )


def test_a_resumable_no_transaction_up_passes(roundtrip: RoundTrip) -> None:
    # statements inside the file's own BEGIN ... COMMIT are recorded with it: never repeated
    files = pair(
        1,
        "seed",
        "-- sqlmig:no-transaction\n"
        "CREATE TABLE IF NOT EXISTS seeds (id int PRIMARY KEY);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS seeds_id_idx ON seeds (id);\n"
        "BEGIN;\nINSERT INTO seeds VALUES (1);\nINSERT INTO seeds VALUES (2);\nCOMMIT;\n"
        "INSERT INTO seeds VALUES (3) ON CONFLICT DO NOTHING;\n",
        "DROP TABLE IF EXISTS seeds;\n",
    )
    result = roundtrip(files, "--format", "json")
    assert result.code == 0, result.text
    assert report(result, 1)["ok"] is True


def test_the_admin_password_is_never_shown(roundtrip: RoundTrip, pg_admin_dsn: str) -> None:
    # a wrong server: the connection error names it, masked
    bad = "postgresql://someone:s3cret-pw@127.0.0.1:1/postgres"
    project_files = GOOD
    result = roundtrip(project_files, "--admin-dsn", bad)
    assert result.code == 3, result.text
    assert "s3cret-pw" not in result.text
    assert "someone:***@127.0.0.1:1" in result.err


def test_a_createdb_role_is_enough_and_gets_the_same_findings(
    roundtrip: RoundTrip, pg_admin_dsn: str
) -> None:
    # not a superuser: no event triggers, so every snapshot scans the catalog for changes
    role, password = f"sqlmig_rt_creator_{os.getpid()}", "rt-creator-pw"
    query(pg_admin_dsn, f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'")
    try:
        admin = make_conninfo(pg_admin_dsn, user=role, password=password)
        files = {
            **GOOD,
            **pair(
                4,
                "forgets_default",
                "ALTER TABLE accounts ALTER note SET DEFAULT 'n';",
                "SELECT 1;",
            ),
        }
        result = roundtrip(files, "--admin-dsn", admin, "--format", "json")
    finally:
        query(pg_admin_dsn, f"DROP ROLE {role}")
    assert result.code == 1, result.text
    assert report(result, 4)["differences"] == [
        "after down of 004_forgets_default: default of column public.accounts.note is 'n'::text,"
        " expected none"
    ]
    assert password not in result.text


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_drops_its_scratch_database(
    tmp_path: Path, pg_admin_dsn: str, sig: signal.Signals
) -> None:
    files = {**GOOD, **pair(4, "slow", "SELECT pg_sleep(30);", "SELECT 1;")}
    project = make_project(tmp_path, None, files)
    before = scratch_databases(pg_admin_dsn)
    proc = spawn(project, "test", "--admin-dsn", pg_admin_dsn)
    try:
        deadline = time.monotonic() + 20
        while not [
            name
            for name in set(scratch_databases(pg_admin_dsn)) - set(before)
            if name.startswith(f"sqlmig_test_{proc.pid}_")
        ]:
            assert time.monotonic() < deadline, "the scratch database never appeared"
            time.sleep(0.02)
        # signal it while the slow statement runs on the server, however loaded the machine is
        while query(
            pg_admin_dsn,
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname LIKE %s",
            [f"sqlmig_test_{proc.pid}_%"],
        ) != [(1,)]:
            assert time.monotonic() < deadline + 20, "the slow migration never started"
            time.sleep(0.02)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    assert "interrupted" in err
    assert scratch_databases(pg_admin_dsn) == before
