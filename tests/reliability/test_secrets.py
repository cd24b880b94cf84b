"""A password in the DSN never reaches stdout, stderr, JSON, the history or the event log, with
every command; and the embedded server's data folder is private."""

from __future__ import annotations

from pathlib import Path

from sqlmig.embedded import EmbeddedServer
from tests.helpers import make_project, pair, query, run_process

FILES = {
    **pair(
        1, "users", "CREATE TABLE IF NOT EXISTS users (id int);\n", "DROP TABLE IF EXISTS users;\n"
    ),
    **pair(
        2,
        "index",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_id_idx ON users (id);\n",
        "DROP INDEX CONCURRENTLY IF EXISTS users_id_idx;\n",
    ),
    **pair(3, "broken", "SELECT no_such_column FROM users;\n", "SELECT 1;\n"),
}

COMMANDS: list[tuple[str, ...]] = [
    ("up", "--to", "2"),
    ("up",),  # fails on 003: the SQL error must not carry the DSN
    ("status",),
    ("status", "--format", "json"),
    ("validate",),
    ("validate", "--format", "json"),
    ("up", "--dry-run", "--format", "json"),
    ("-v", "redo"),
    ("apply", "2", "--down"),
    ("apply", "index", "--format", "json"),
    ("repair",),
    ("down", "--format", "json"),
    ("baseline", "1"),
    ("down", "--all", "--dry-run"),
    ("--debug", "status"),  # a traceback is allowed with --debug; a password is not
    ("new", "add_more"),
    ("status",),  # with an unwritten new migration in the folder
]


def test_password_appears_nowhere(tmp_path: Path, password_role: tuple[str, str, str]) -> None:
    dsn, _, password = password_role
    project = make_project(tmp_path, dsn, FILES)
    outputs = []
    for args in COMMANDS:
        result = run_process(project, *args)
        assert result.code in (0, 1, 2, 3), (args, result.err)
        if "--debug" not in args:
            assert "Traceback" not in result.text, (args, result.err)
        outputs.append(result.text)
    wrong = make_project(tmp_path / "wrong", dsn.replace(password, password + "x"), FILES)
    for args in (("status",), ("up",), ("--debug", "up")):
        outputs.append(run_process(wrong, *args).text)
    text = "\n".join(outputs)
    assert "***" in text  # the DSN was shown, masked
    assert password not in text
    rows = query(
        dsn,
        "SELECT h::text FROM public.sqlmig_history h"
        " UNION ALL SELECT l::text FROM public.sqlmig_history_log l",
    )
    assert rows and all(password not in str(r[0]) for r in rows)


def test_embedded_data_folder_is_private(reachable_tmp_path: Path) -> None:
    server = EmbeddedServer(reachable_tmp_path)
    try:
        server.start()
        assert server.data_dir == reachable_tmp_path / ".sqlmig" / "pgdata"
        assert server.data_dir.stat().st_mode & 0o777 == 0o700
    finally:
        server.stop()
