"""Applying, reverting and tracking migrations on a real PostgreSQL, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import history, make_project, pair, query, run_cli, tables

USERS = pair(
    1,
    "create_users",
    "CREATE TABLE IF NOT EXISTS users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text);\n",
    "DROP TABLE IF EXISTS users;\n",
)
ORDERS = pair(
    2,
    "create_orders",
    "CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));\n"
    "CREATE INDEX IF NOT EXISTS orders_user_id_idx ON orders (user_id);\n",
    "DROP TABLE IF EXISTS orders;\n",
)


def test_up_applies_pending_migrations_in_order_and_records_them(
    tmp_path: Path, db_dsn: str
) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS})
    result = run_cli(project, "up")
    assert result.code == 0, result.text
    assert {"users", "orders"} <= tables(db_dsn)
    assert history(db_dsn) == [(1, "applied", 1), (2, "applied", 2)]
    assert "applied 001_create_users" in result.err


def test_second_up_has_nothing_to_do(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS})
    assert run_cli(project, "up").code == 0
    again = run_cli(project, "up")
    assert again.code == 0
    assert "nothing to do" in again.err


def test_status_json_lists_every_migration_with_its_state(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS})
    assert run_cli(project, "up", "--step", "1").code == 0
    result = run_cli(project, "status", "--format", "json")
    assert result.code == 0, result.text
    doc = json.loads(result.out)
    assert doc["target"] == "main"
    states = [(m["version"], m["name"], m["state"]) for m in doc["migrations"]]
    assert states == [(1, "create_users", "applied"), (2, "create_orders", "pending")]
    assert doc["migrations"][0]["applied_at"] is not None
    assert isinstance(doc["migrations"][0]["execution_ms"], int)


def test_global_options_work_after_the_command_too(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS})
    before = run_cli(project, "--format", "json", "status")
    after = run_cli(project, "status", "--format", "json")
    assert json.loads(before.out) == json.loads(after.out)


def test_status_exit_code_flags_pending(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS})
    assert run_cli(project, "status", "--exit-code").code == 1
    assert run_cli(project, "up").code == 0
    assert run_cli(project, "status", "--exit-code").code == 0


def test_down_reverts_the_last_migration_only(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS})
    assert run_cli(project, "up").code == 0
    result = run_cli(project, "down")
    assert result.code == 0, result.text
    assert "orders" not in tables(db_dsn)
    assert "users" in tables(db_dsn)
    assert history(db_dsn) == [(1, "applied", 1)]


def test_down_all_reverts_everything_newest_first(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS})
    assert run_cli(project, "up").code == 0
    result = run_cli(project, "rollback", "--all", "--format", "json")
    assert result.code == 0, result.text
    doc = json.loads(result.out)
    assert [m["version"] for m in doc["migrations"]] == [2, 1]
    assert all(m["direction"] == "down" and m["status"] == "reverted" for m in doc["migrations"])
    assert not {"users", "orders"} & tables(db_dsn)
    assert history(db_dsn) == []


def test_up_to_and_step_limit_the_work(tmp_path: Path, db_dsn: str) -> None:
    third = pair(
        3, "third", "CREATE TABLE IF NOT EXISTS third (id int);\n", "DROP TABLE IF EXISTS third;\n"
    )
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS, **third})
    assert run_cli(project, "up", "--to", "2").code == 0
    assert [r[0] for r in history(db_dsn)] == [1, 2]
    assert run_cli(project, "down", "--to", "0").code == 0
    assert history(db_dsn) == []
    assert run_cli(project, "migrate", "--step", "2").code == 0
    assert [r[0] for r in history(db_dsn)] == [1, 2]


def test_redo_reverts_and_reapplies_the_last_migration(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS})
    assert run_cli(project, "up").code == 0
    result = run_cli(project, "redo", "--format", "json")
    assert result.code == 0, result.text
    doc = json.loads(result.out)
    assert [(m["version"], m["direction"]) for m in doc["migrations"]] == [(2, "down"), (2, "up")]
    assert history(db_dsn) == [(1, "applied", 1), (2, "applied", 2)]
    events = query(
        db_dsn, "SELECT event FROM public.sqlmig_history_log WHERE version = 2 ORDER BY id"
    )
    assert [e[0] for e in events] == ["up", "down", "up"]


def test_dry_run_lists_every_statement_and_changes_nothing(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS})
    result = run_cli(project, "up", "--dry-run", "--format", "json")
    assert result.code == 0, result.text
    doc = json.loads(result.out)
    second = doc["migrations"][1]
    assert second["mode"] == "transaction"
    assert [s["line"] for s in second["statements"]] == [1, 2]
    assert (
        second["statements"][1]["sql"]
        == "CREATE INDEX IF NOT EXISTS orders_user_id_idx ON orders (user_id)"
    )
    assert all(s["transactional"] for s in second["statements"])
    assert second["status"] == "planned"
    assert not {"users", "orders"} & tables(db_dsn)
    assert query(db_dsn, "SELECT to_regclass('public.sqlmig_history')") == [(None,)]


def test_apply_by_name_fragment_and_revert_it(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS})
    assert run_cli(project, "apply", "users").code == 0
    assert history(db_dsn) == [(1, "applied", 1)]
    assert run_cli(project, "apply", "1", "--down").code == 0
    assert history(db_dsn) == []


def test_apply_lists_candidates_when_the_fragment_is_ambiguous(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS})
    result = run_cli(project, "apply", "create")
    assert result.code == 2
    assert "matches several migrations" in result.err
    assert "001_create_users" in result.err and "002_create_orders" in result.err


def test_apply_force_reruns_an_applied_migration_and_logs_it(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS})
    assert run_cli(project, "up").code == 0
    refused = run_cli(project, "apply", "1")
    assert refused.code == 3 and "already applied" in refused.err
    assert run_cli(project, "apply", "1", "--force").code == 0
    events = query(db_dsn, "SELECT event FROM public.sqlmig_history_log ORDER BY id")
    assert [e[0] for e in events] == ["up", "force", "up"]
    assert history(db_dsn) == [(1, "applied", 1)]


def test_irreversible_down_refuses_with_its_reason(tmp_path: Path, db_dsn: str) -> None:
    files = pair(
        1,
        "drop_legacy",
        "CREATE TABLE IF NOT EXISTS legacy (id int);\n",
        "-- sqlmig:irreversible the legacy data is archived elsewhere\n",
    )
    project = make_project(tmp_path, db_dsn, files)
    assert run_cli(project, "up").code == 0
    result = run_cli(project, "down")
    assert result.code == 2
    assert "irreversible: the legacy data is archived elsewhere" in result.err
    assert history(db_dsn) == [(1, "applied", 1)]


def test_history_row_keeps_sql_checksums_and_who(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS})
    assert run_cli(project, "up").code == 0
    row = query(
        db_dsn,
        "SELECT name, checksum_algorithm, length(checksum_up), up_sql, down_sql, applied_by,"
        " client_host IS NOT NULL, sqlmig_version, cardinality(statement_hashes)"
        " FROM public.sqlmig_history",
    )[0]
    assert row[0] == "create_users"
    assert row[1] == "sha256-v1"
    assert row[2] == 64
    assert row[3] == USERS["001_create_users.up.sql"]
    assert row[4] == USERS["001_create_users.down.sql"]
    assert row[5] == query(db_dsn, "SELECT current_user")[0][0]
    assert row[6] is True
    assert row[8] == 1


def test_baseline_marks_versions_applied_without_running_them(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS})
    result = run_cli(project, "baseline", "1")
    assert result.code == 0, result.text
    assert "users" not in tables(db_dsn)
    assert history(db_dsn) == [(1, "applied", 1)]
    states = [
        m["state"]
        for m in json.loads(run_cli(project, "status", "--format", "json").out)["migrations"]
    ]
    assert states == ["applied", "pending"]
    events = query(db_dsn, "SELECT event FROM public.sqlmig_history_log ORDER BY id LIMIT 1")
    assert events == [("baseline",)]


def test_history_table_name_comes_from_config(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS}, history_table="ops.schema_versions")
    assert run_cli(project, "up").code == 0
    assert query(db_dsn, "SELECT count(*) FROM ops.schema_versions") == [(1,)]
    assert query(db_dsn, "SELECT count(*) FROM ops.schema_versions_log") == [(1,)]


def test_a_history_table_from_a_newer_sqlmig_is_refused(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS})
    assert run_cli(project, "up").code == 0
    query(db_dsn, "COMMENT ON TABLE public.sqlmig_history IS 'sqlmig history format 99'")
    result = run_cli(project, "status")
    assert result.code == 3
    assert "newer sqlmig" in result.err and "hint:" in result.err


def test_a_set_in_one_migration_does_not_leak_into_the_next(tmp_path: Path, db_dsn: str) -> None:
    files = {
        **pair(
            1,
            "app_schema",
            "CREATE SCHEMA IF NOT EXISTS app;\nSET search_path = app;\nCREATE TABLE IF NOT EXISTS inside (id int);\n",
            "DROP SCHEMA IF EXISTS app CASCADE;\n",
        ),
        **pair(
            2,
            "public_table",
            "CREATE TABLE IF NOT EXISTS outside (id int);\n",
            "DROP TABLE IF EXISTS outside;\n",
        ),
        **pair(
            3,
            "no_tx_set",
            "-- sqlmig:no-transaction\nSET search_path = app;\nCREATE TABLE IF NOT EXISTS also_inside (id int);\n",
            "DROP TABLE IF EXISTS app.also_inside;\n",
        ),
        **pair(
            4,
            "public_again",
            "CREATE TABLE IF NOT EXISTS outside_too (id int);\n",
            "DROP TABLE IF EXISTS outside_too;\n",
        ),
    }
    project = make_project(tmp_path, db_dsn, files)
    assert run_cli(project, "up").code == 0
    rows = query(
        db_dsn,
        "SELECT schemaname, tablename FROM pg_tables WHERE tablename IN ('inside', 'outside', 'also_inside', 'outside_too') ORDER BY 2",
    )
    assert rows == [
        ("app", "also_inside"),
        ("app", "inside"),
        ("public", "outside"),
        ("public", "outside_too"),
    ]


def test_a_run_ends_with_a_summary_line_for_deploy_logs(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **ORDERS})
    up = run_cli(project, "up")
    assert up.err.strip().splitlines()[-1].startswith("main: 2 applied in ")
    redo = run_cli(project, "redo")
    assert redo.err.strip().splitlines()[-1].startswith("main: 1 applied, 1 reverted in ")
