"""A password in the DSN never reaches stdout, stderr, JSON, the history or the event log."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import make_project, pair, query, run_process

FILES = {
    **pair(
        1, "users", "CREATE TABLE IF NOT EXISTS users (id int);\n", "DROP TABLE IF EXISTS users;\n"
    ),
    **pair(2, "broken", "SELECT no_such_column FROM users;\n", "SELECT 1;\n"),
}


def test_password_appears_nowhere(tmp_path: Path, password_role: tuple[str, str, str]) -> None:
    dsn, _, password = password_role
    project = make_project(tmp_path, dsn, FILES)
    outputs = []
    for args in (
        ("up", "--to", "1"),
        ("up",),  # fails on 002: the SQL error must not carry the DSN either
        ("status",),
        ("status", "--format", "json"),
        ("validate", "--format", "json"),
        ("up", "--dry-run", "--format", "json"),
        ("down", "--format", "json"),
        ("-v", "up", "--to", "1"),
    ):
        result = run_process(project, *args)
        assert result.code in (0, 1, 3), result.err
        outputs.append(result.text)
    wrong = make_project(tmp_path / "wrong", dsn.replace(password, password + "x"), FILES)
    outputs.append(run_process(wrong, "status").text)
    text = "\n".join(outputs)
    assert "***" in text  # the DSN was shown, masked
    assert password not in text
    rows = query(
        dsn,
        "SELECT h::text FROM public.sqlmig_history h UNION ALL SELECT l::text FROM public.sqlmig_history_log l",
    )
    assert rows and all(password not in str(r[0]) for r in rows)
