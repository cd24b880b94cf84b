"""Errors point at the right place: SQL errors map to file:line:col, usage errors are one line.

The catalogue of bad input (names, encodings, config, connections) is tests/reliability."""

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
