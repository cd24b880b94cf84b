"""Bad input: one line saying what and where, a hint, the SPEC exit code, no traceback, no
password, and no change to the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Result, make_project, pair, query, run_process, tables

GOOD = pair(
    1,
    "create_users",
    "CREATE TABLE IF NOT EXISTS users (id int);\n",
    "DROP TABLE IF EXISTS users;\n",
)
SECRET = "s3cret-Pa55"


def assert_one_error(result: Result, code: int, *needles: str) -> None:
    assert result.code == code, result.text
    lines = result.err.strip().splitlines()
    errors = [line for line in lines if line.startswith("sqlmig: error: ")]
    assert len(errors) == 1, result.err
    assert any(line.startswith("hint: ") for line in lines), result.err
    assert "Traceback" not in result.text
    assert SECRET not in result.text
    for needle in needles:
        assert needle in errors[0], errors[0]


def test_wrong_password(tmp_path: Path, password_role: tuple[str, str, str]) -> None:
    host_part = password_role[0].split("@", 1)[1]
    project = make_project(tmp_path, f"postgresql://{password_role[1]}:{SECRET}@{host_part}", GOOD)
    result = run_process(project, "up")
    assert_one_error(result, 3, "cannot connect", "password authentication failed")
    assert "password" in result.err.split("hint: ", 1)[1]


def test_unreachable_host(tmp_path: Path) -> None:
    project = make_project(tmp_path, f"postgresql://app:{SECRET}@127.0.0.1:1/app", GOOD)
    result = run_process(project, "up")
    assert_one_error(result, 3, "cannot connect to postgresql://app:***@127.0.0.1:1/app")


def test_database_that_does_not_exist(tmp_path: Path, db_dsn: str) -> None:
    dsn = db_dsn.rsplit("/", 1)[0] + "/no_such_database_here"
    project = make_project(tmp_path, dsn, GOOD)
    result = run_process(project, "status")
    assert_one_error(result, 3, "does not exist")


def test_bad_config_key(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, GOOD, lock_timout="5s")
    result = run_process(project, "up")
    assert_one_error(result, 2, "lock_timout")
    assert "users" not in tables(db_dsn)


def test_bad_file_name(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**GOOD, "002_Add_Email.up.sql": "SELECT 1;\n"})
    result = run_process(project, "up")
    assert_one_error(result, 2, "002_Add_Email.up.sql")
    assert "users" not in tables(db_dsn)


def test_missing_down_file(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, {**GOOD, "002_add_email.up.sql": "SELECT 1;\n"})
    result = run_process(project, "up")
    assert_one_error(result, 2, "002_add_email")
    assert "002_add_email.down.sql" in result.err
    assert "users" not in tables(db_dsn)


def test_sql_syntax_error_points_at_line_and_column(tmp_path: Path, db_dsn: str) -> None:
    broken = pair(
        2,
        "broken",
        "CREATE TABLE IF NOT EXISTS orders (id int);\n\nCREATE TABLE IF NOT EXISTS items (id int,, name text);\n",
        "DROP TABLE IF EXISTS items;\nDROP TABLE IF EXISTS orders;\n",
    )
    project = make_project(tmp_path, db_dsn, {**GOOD, **broken})
    result = run_process(project, "up")
    assert_one_error(result, 3, '002_broken.up.sql:3:42: 42601 syntax error at or near ","')
    assert "orders" not in tables(db_dsn)  # the failing migration was rolled back whole
    assert "users" in tables(db_dsn)  # the one before it stays applied
    rows = query(db_dsn, "SELECT event, error FROM public.sqlmig_history_log ORDER BY id")
    assert rows[-1][0] == "failure" and "42601" in str(rows[-1][1])


def test_error_without_position_names_the_failing_statement(tmp_path: Path, db_dsn: str) -> None:
    files = pair(
        1,
        "dupes",
        "CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1);\n  INSERT INTO t VALUES (1);\n",
        "DROP TABLE IF EXISTS t;\n",
    )
    project = make_project(tmp_path, db_dsn, files)
    result = run_process(project, "up")
    assert_one_error(result, 3, "001_dupes.up.sql:3:3: 23505 duplicate key value")
    assert "Key (id)=(1) already exists" in result.err  # PostgreSQL's detail is shown


def test_error_inside_a_function_body_points_into_the_body(tmp_path: Path, db_dsn: str) -> None:
    body = (
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  RETURN 1 +;\n"
        "END\n"
        "$$;\n"
    )
    project = make_project(
        tmp_path, db_dsn, pair(1, "func", body, "DROP FUNCTION IF EXISTS f();\n")
    )
    result = run_process(project, "up")
    assert_one_error(result, 3, "001_func.up.sql:3:")


@pytest.mark.parametrize("name", ["Add Users", "../escape", "a-b", "add users", ""])
def test_new_refuses_bad_names(tmp_path: Path, name: str) -> None:
    project = make_project(tmp_path, None, {})
    result = run_process(project, "new", name)
    assert_one_error(result, 2)
    assert list((project / "migrations").iterdir()) == []


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    project = make_project(tmp_path, None, {})
    assert_one_error(run_process(project), 2, "no command given")


def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    project = make_project(tmp_path, None, {})
    assert_one_error(run_process(project, "up", "--bogus"), 2, "--bogus")
