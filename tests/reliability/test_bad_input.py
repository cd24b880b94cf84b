"""Bad input, case by case: one clear line naming what and where, a hint, the SPEC exit code, no
traceback, no password, and the database left exactly as it was."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import Result, make_project, pair, query, run_process

GOOD = pair(
    1,
    "create_users",
    "CREATE TABLE IF NOT EXISTS users (id int);\n",
    "DROP TABLE IF EXISTS users;\n",
)
SECRET = "Pa55-w0rd-in-dsn"
LATIN1: dict[str, str | bytes] = {
    "002_latin1.up.sql": b"SELECT 'caf\xe9';\n",
    "002_latin1.down.sql": "SELECT 1;",
}


@dataclass(frozen=True)
class Case:
    id: str
    code: int
    needle: str
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)
    args: tuple[str, ...] = ("up",)
    dsn: Callable[[str], str] | None = None  # rewrite the test database's DSN
    prepare: Callable[[str], None] | None = None  # change the database before the run
    env: dict[str, str] = field(default_factory=dict)
    logged: bool = False  # the run reached the server: the event log records the failure


def _with(**extra: str | bytes) -> Mapping[str, str | bytes]:
    return {**GOOD, **extra}


def _read_only(dsn: str) -> None:
    query(dsn, f"ALTER DATABASE {dsn.rsplit('/', 1)[1]} SET default_transaction_read_only = on")


def _newer_history(dsn: str) -> None:
    query(dsn, "CREATE TABLE public.sqlmig_history (version bigint PRIMARY KEY)")
    query(dsn, "COMMENT ON TABLE public.sqlmig_history IS 'sqlmig history format 7'")


CASES = [
    Case(
        "name-upper-case", 2, "001_Add_Users.up.sql", _with(**{"001_Add_Users.up.sql": "SELECT 1;"})
    ),
    Case("name-upper-suffix", 2, "002_add.UP.sql", _with(**{"002_add.UP.sql": "SELECT 1;"})),
    Case("name-without-direction", 2, "002_add.sql", _with(**{"002_add.sql": "SELECT 1;"})),
    Case("name-with-dash", 2, "2-add.up.sql", _with(**{"2-add.up.sql": "SELECT 1;"})),
    Case(
        "name-with-space", 2, "002_add users.up.sql", _with(**{"002_add users.up.sql": "SELECT 1;"})
    ),
    Case(
        "duplicate-version",
        2,
        "version 1 is used by two migrations",
        _with(**pair(1, "again", "SELECT 1;", "SELECT 1;")),
    ),
    Case(
        "reused-version-other-padding",
        2,
        "version 1",
        _with(**{"1_again.up.sql": "SELECT 1;", "1_again.down.sql": "SELECT 1;"}),
    ),
    Case(
        "missing-down", 2, "002_add_email.down.sql", _with(**{"002_add_email.up.sql": "SELECT 1;"})
    ),
    Case(
        "down-without-up", 2, "002_orphan.down.sql", _with(**{"002_orphan.down.sql": "SELECT 1;"})
    ),
    Case(
        "empty-up-file", 2, "002_empty.up.sql: is empty", _with(**pair(2, "empty", "", "SELECT 1;"))
    ),
    Case(
        "comment-only-up-file",
        2,
        "contains no SQL statement",
        _with(**pair(2, "comments", "-- todo\n/* later */\n", "SELECT 1;")),
    ),
    Case(
        "non-utf8-bytes",
        2,
        "002_latin1.up.sql: not valid UTF-8 at byte offset 11",
        _with(**LATIN1),
    ),
    Case(
        "unterminated-dollar-quote",
        2,
        "unterminated dollar-quoted string",
        _with(**pair(2, "dollar", "DO $body$ BEGIN NULL; END $bdy$;\n", "SELECT 1;")),
    ),
    Case(
        "unterminated-string",
        2,
        "002_quote.up.sql:1:",
        _with(**pair(2, "quote", "SELECT 'it''s;\n", "SELECT 1;")),
    ),
    Case(
        "unterminated-block-comment",
        2,
        "002_comment.up.sql",
        _with(**pair(2, "comment", "SELECT 1; /* never /* closed */\n", "SELECT 1;")),
    ),
    Case(
        "unknown-directive",
        2,
        "did you mean sqlmig:no-transaction",
        _with(**pair(2, "typo", "-- sqlmig:no-transactoin\nSELECT 1;\n", "SELECT 1;")),
    ),
    Case(
        "directive-after-first-statement",
        2,
        "002_late.up.sql:2",
        _with(**pair(2, "late", "SELECT 1;\n-- sqlmig:no-transaction\nSELECT 2;\n", "SELECT 1;")),
    ),
    Case(
        "irreversible-in-up-file",
        2,
        "002_wrong.up.sql",
        _with(**pair(2, "wrong", "-- sqlmig:irreversible nope\nSELECT 1;\n", "SELECT 1;")),
    ),
    Case(
        "commit-in-transactional-file",
        2,
        "sqlmig owns the transaction",
        _with(**pair(2, "tx", "SELECT 1;\nCOMMIT;\n", "SELECT 1;")),
    ),
    Case(
        "psql-meta-command",
        2,
        "002_psql.up.sql:2:1",
        _with(**pair(2, "psql", "SELECT 1;\n\\connect other\n", "SELECT 1;")),
    ),
    Case(
        "copy-from-stdin",
        2,
        "002_copy.up.sql",
        _with(**pair(2, "copy", "COPY users FROM stdin;\n1\n\\.\n", "SELECT 1;")),
    ),
    Case(
        "sql-syntax-error",
        3,
        "001_syntax.up.sql:2:13: 42601",
        pair(
            1, "syntax", "CREATE TABLE IF NOT EXISTS t (id int);\nSELECT FROM WHERE;\n", "SELECT 1;"
        ),
        logged=True,
    ),
    Case("config-unknown-key", 2, "lock_timout", GOOD, {"lock_timout": "5s"}),
    Case("config-wrong-type", 2, "lock_retries", GOOD, {"lock_retries": "many"}),
    Case("config-bad-duration", 2, "lock_timeout", GOOD, {"lock_timeout": "5 seconds"}),
    Case("config-unknown-versioning", 2, "versioning", GOOD, {"versioning": "semver"}),
    Case(
        "history-table-injection",
        2,
        "history_table",
        GOOD,
        {"history_table": "public.x; DROP TABLE users; --"},
    ),
    Case("history-table-three-parts", 2, "history_table", GOOD, {"history_table": "a.b.c"}),
    Case(
        "config-unset-variable",
        2,
        "environment variable SQLMIG_NOT_SET_ANYWHERE is not set",
        GOOD,
        dsn=lambda _: "${SQLMIG_NOT_SET_ANYWHERE}",
    ),
    Case("unknown-target", 2, "billing", GOOD, args=("up", "--target", "billing")),
    Case(
        "wrong-password",
        3,
        "password authentication failed",
        GOOD,
        dsn=lambda d: "__PASSWORD_ROLE__",
    ),
    Case(
        "unreachable-host",
        3,
        "cannot connect to postgresql://app:***@127.0.0.1:1/app",
        GOOD,
        dsn=lambda _: f"postgresql://app:{SECRET}@127.0.0.1:1/app",
    ),
    Case(
        "database-does-not-exist",
        3,
        "does not exist",
        GOOD,
        dsn=lambda d: d.rsplit("/", 1)[0] + "/sqlmig_no_such_db",
    ),
    Case("read-only-server", 3, "25006", GOOD, prepare=_read_only),
    Case("history-from-a-newer-sqlmig", 3, "newer sqlmig", GOOD, prepare=_newer_history),
    Case("new-with-parent-path", 2, "../escape", args=("new", "../escape")),
    Case("new-with-spaces", 2, "add users", args=("new", "add users")),
    Case("step-zero", 2, "--step", GOOD, args=("up", "--step", "0")),
    Case("option-without-value", 2, "--to", GOOD, args=("up", "--to")),
]


def _objects(dsn: str, *, with_history: bool = True) -> list[tuple[object, ...]]:
    """Every relation outside the system schemas, to prove a failed run changed nothing."""
    rows = query(
        dsn,
        "SELECT n.nspname, c.relname, c.relkind FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
        " ORDER BY 1, 2",
    )
    return rows if with_history else [r for r in rows if not str(r[1]).startswith("sqlmig_history")]


def _write(folder: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(
    case: Case, tmp_path: Path, db_dsn: str, password_role: tuple[str, str, str]
) -> None:
    dsn = db_dsn
    if case.dsn is not None:
        dsn = case.dsn(db_dsn)
    if dsn == "__PASSWORD_ROLE__":
        host = password_role[0].split("@", 1)[1]
        dsn = f"postgresql://{password_role[1]}:{SECRET}@{host}"
    if case.prepare is not None:
        case.prepare(db_dsn)
    project = make_project(tmp_path, dsn, {}, **case.settings)
    _write(project / "migrations", case.files)
    before = _objects(db_dsn)

    result = run_process(project, *case.args, env=case.env)

    _assert_one_error(result, case)
    if case.logged:
        assert _objects(db_dsn, with_history=False) == before
        assert query(db_dsn, "SELECT event FROM public.sqlmig_history_log") == [("failure",)]
        assert query(db_dsn, "SELECT count(*) FROM public.sqlmig_history") == [(0,)]
    else:
        assert _objects(db_dsn) == before


def _assert_one_error(result: Result, case: Case) -> None:
    assert result.code == case.code, result.text
    lines = result.err.strip().splitlines()
    errors = [line for line in lines if line.startswith("sqlmig: error: ")]
    assert len(errors) == 1, result.err
    assert case.needle in errors[0], errors[0]
    assert sum(line.startswith("hint: ") for line in lines) == 1, result.err
    assert "Traceback" not in result.text
    assert SECRET not in result.text
    assert result.out == ""


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


def test_symlink_pointing_outside_the_folder_is_refused(tmp_path: Path, db_dsn: str) -> None:
    outside = tmp_path / "elsewhere.sql"
    outside.write_text("DROP TABLE IF EXISTS users;\n")
    project = make_project(tmp_path / "p", db_dsn, GOOD)
    os.symlink(outside, project / "migrations" / "002_sneaky.up.sql")
    (project / "migrations" / "002_sneaky.down.sql").write_text("SELECT 1;\n")
    before = _objects(db_dsn)
    result = run_process(project, "up")
    _assert_one_error(result, Case("symlink", 2, "002_sneaky.up.sql"))
    assert _objects(db_dsn) == before


def test_bom_and_crlf_files_apply_with_the_checksum_of_the_lf_file(
    tmp_path: Path, db_dsn: str
) -> None:
    text = "CREATE TABLE IF NOT EXISTS users (id int);\n-- done\n"
    project = make_project(tmp_path, db_dsn, {})
    folder = project / "migrations"
    (folder / "001_users.up.sql").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    (folder / "001_users.down.sql").write_bytes(b"DROP TABLE IF EXISTS users;\r")
    result = run_process(project, "up")
    assert result.code == 0, result.err
    rows = query(
        db_dsn,
        "SELECT checksum_up = encode(sha256(convert_to(%s, 'UTF8')), 'hex'),"
        " checksum_down = encode(sha256(convert_to(%s, 'UTF8')), 'hex') FROM public.sqlmig_history",
        [text, "DROP TABLE IF EXISTS users;\n"],
    )
    assert rows == [(True, True)]
