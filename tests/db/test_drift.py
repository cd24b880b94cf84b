"""Applied migrations are immutable: edits are caught before anything runs, and repair is logged."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import history, make_project, pair, query, run_cli

USERS = pair(
    1,
    "create_users",
    "CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY);\n",
    "DROP TABLE IF EXISTS users;\n",
)
LATER = pair(
    2, "later", "CREATE TABLE IF NOT EXISTS later (id int);\n", "DROP TABLE IF EXISTS later;\n"
)


def _edit(project: Path) -> None:
    path = project / "migrations" / "001_create_users.up.sql"
    path.write_text("CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, email text);\n")


def test_up_refuses_while_an_applied_file_was_edited(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, USERS)
    assert run_cli(project, "up").code == 0
    _edit(project)
    (project / "migrations" / "002_later.up.sql").write_text(LATER["002_later.up.sql"])
    (project / "migrations" / "002_later.down.sql").write_text(LATER["002_later.down.sql"])
    result = run_cli(project, "up")
    assert result.code == 1
    assert "001_create_users" in result.err and "edited after they ran" in result.err
    assert "-CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY);" in result.err
    assert "+CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, email text);" in result.err
    assert "sqlmig repair" in result.err
    assert history(db_dsn) == [(1, "applied", 1)]


def test_validate_shows_a_unified_diff_against_the_stored_sql(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, USERS)
    assert run_cli(project, "up").code == 0
    _edit(project)
    result = run_cli(project, "validate")
    assert result.code == 1
    assert "001_create_users: changed: up file changed after it was applied" in result.out
    assert "-CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY);" in result.out
    assert "+CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, email text);" in result.out
    doc = json.loads(run_cli(project, "validate", "--format", "json").out)
    assert doc["problems"][0]["kind"] == "changed"


def test_repair_accepts_the_edit_and_logs_it(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, USERS)
    assert run_cli(project, "up").code == 0
    _edit(project)
    result = run_cli(project, "repair")
    assert result.code == 0, result.text
    assert "accepted the current files of 001_create_users" in result.out
    assert run_cli(project, "validate").code == 0
    assert run_cli(project, "up").code == 0
    events = query(db_dsn, "SELECT event FROM public.sqlmig_history_log ORDER BY id")
    assert [e[0] for e in events] == ["up", "repair"]


def test_validate_reports_missing_files_and_out_of_order(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, LATER)
    assert run_cli(project, "up").code == 0
    for name, text in USERS.items():
        (project / "migrations" / name).write_text(text)
    for name in LATER:
        (project / "migrations" / name).unlink()
    result = run_cli(project, "validate", "--format", "json")
    assert result.code == 1
    kinds = {(p["version"], p["kind"]) for p in json.loads(result.out)["problems"]}
    assert kinds == {(1, "out-of-order"), (2, "missing-file")}


def test_out_of_order_pending_is_refused_unless_allowed(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, LATER)
    assert run_cli(project, "up").code == 0
    for name, text in USERS.items():
        (project / "migrations" / name).write_text(text)
    refused = run_cli(project, "up")
    assert refused.code == 1
    assert "older than the newest applied" in refused.err and "--allow-out-of-order" in refused.err
    assert run_cli(project, "up", "--allow-out-of-order").code == 0
    assert [r[0] for r in history(db_dsn)] == [1, 2]


def test_down_of_a_migration_whose_files_are_gone_uses_the_stored_down(
    tmp_path: Path, db_dsn: str
) -> None:
    project = make_project(tmp_path, db_dsn, LATER)
    assert run_cli(project, "up").code == 0
    for name in LATER:
        (project / "migrations" / name).unlink()
    result = run_cli(project, "down")
    assert result.code == 0, result.text
    assert history(db_dsn) == []
    assert query(db_dsn, "SELECT to_regclass('public.later')") == [(None,)]


def test_down_of_a_migration_whose_files_are_gone_runs_the_stored_down_sql(
    tmp_path: Path, db_dsn: str
) -> None:
    project = make_project(tmp_path, db_dsn, {**USERS, **LATER})
    assert run_cli(project, "up").code == 0
    for name in LATER:
        (project / "migrations" / name).unlink()
    status = run_cli(project, "status", "--format", "json")
    assert [m["state"] for m in json.loads(status.out)["migrations"]] == [
        "applied",
        "missing-file",
    ]
    result = run_cli(project, "down")
    assert result.code == 0, result.text
    assert "002_later" in result.err
    assert query(db_dsn, "SELECT to_regclass('later') IS NULL") == [(True,)]
    assert history(db_dsn) == [(1, "applied", 1)]
    logged = query(
        db_dsn, "SELECT version, event FROM public.sqlmig_history_log WHERE version = 2 ORDER BY id"
    )
    assert logged == [(2, "up"), (2, "down")]
