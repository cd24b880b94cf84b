"""History is recorded exactly, whichever way the executor sends it: at the end of the file's own
query string (small files), or in pieces with the row streamed through COPY (files over 1 MiB)."""

from __future__ import annotations

from pathlib import Path

from sqlmig.db.executor import COMBINED_MAX_CHARS
from tests.helpers import make_project, pair, query, run_cli, tables

# Text that a careless literal would change: quotes, backslashes, tabs, CR, dollar signs, and a
# tag that looks like the one sqlmig quotes with.
AWKWARD = "-- it's a \\ backslash,\ta tab, $$ and $sqlmig$ and $sqlmig\r\n"


def stored(dsn: str) -> list[tuple[object, ...]]:
    return query(
        dsn,
        "SELECT version, up_sql, down_sql, status, statements_done, execution_ms >= 0"
        " FROM public.sqlmig_history ORDER BY version",
    )


def test_small_file_history_holds_the_exact_texts_whatever_the_file_set(
    tmp_path: Path, db_dsn: str
) -> None:
    # the file changes how the server reads '' strings: sqlmig's own writes must not care
    up = f"{AWKWARD}SET standard_conforming_strings = off;\nCREATE TABLE t (v text);\n"
    down = f"{AWKWARD}DROP TABLE t;\n"
    project = make_project(tmp_path, db_dsn, pair(1, "awkward", up, down))
    result = run_cli(project, "up")
    assert result.code == 0, result.text
    up_text = up.replace("\r\n", "\n")
    assert stored(db_dsn) == [(1, up_text, down.replace("\r\n", "\n"), "applied", 2, True)]
    assert query(db_dsn, "SELECT event FROM public.sqlmig_history_log") == [("up",)]
    assert run_cli(project, "status").code == 0
    assert run_cli(project, "down").code == 0
    assert stored(db_dsn) == []
    assert "t" not in tables(db_dsn)


def big_file(rows: int) -> str:
    lines = ["CREATE TABLE big (id int PRIMARY KEY, v text);"]
    lines += [
        f"INSERT INTO big VALUES ({i}, 'row {i}\tback\\slash $$ it''s');" for i in range(rows)
    ]
    return "\n".join(lines) + "\n"


def test_large_file_is_applied_and_recorded_exactly(tmp_path: Path, db_dsn: str) -> None:
    up = AWKWARD + big_file(30_000)
    assert len(up) > COMBINED_MAX_CHARS  # so it goes in pieces, its row through COPY
    project = make_project(tmp_path, db_dsn, pair(1, "big", up, "DROP TABLE big;\n"))
    result = run_cli(project, "up")
    assert result.code == 0, result.text
    assert query(db_dsn, "SELECT count(*) FROM big") == [(30_000,)]
    expected = (1, up.replace("\r\n", "\n"), "DROP TABLE big;\n", "applied", 30_001, True)
    assert stored(db_dsn) == [expected]
    assert run_cli(project, "validate").code == 0  # the stored text matches the file


def test_error_in_a_later_piece_of_a_large_file_points_at_its_line_and_rolls_back(
    tmp_path: Path, db_dsn: str
) -> None:
    up = big_file(30_000) + "SELECT no_such_column FROM big;\n"
    line = up.count("\n")
    project = make_project(tmp_path, db_dsn, pair(1, "big", up, "DROP TABLE big;\n"))
    result = run_cli(project, "up")
    assert result.code == 3
    assert f"001_big.up.sql:{line}:8: 42703" in result.err
    assert "big" not in tables(db_dsn)
    assert stored(db_dsn) == []


def test_each_migration_of_one_run_records_its_own_texts(tmp_path: Path, db_dsn: str) -> None:
    # the text of migration N+1 is prepared while the server runs migration N: every row must
    # still hold its own file's SQL, statement count and checksum
    files = {
        **pair(1, "one", "CREATE TABLE one (id int);\n", "DROP TABLE one;\n"),
        **pair(2, "two", f"{AWKWARD}CREATE TABLE two (id int);\nSELECT 2;\n", "DROP TABLE two;\n"),
        **pair(3, "three", "CREATE TABLE three (id int);\n", f"{AWKWARD}DROP TABLE three;\n"),
    }
    project = make_project(tmp_path, db_dsn, files)
    assert run_cli(project, "up").code == 0
    assert stored(db_dsn) == [
        (1, "CREATE TABLE one (id int);\n", "DROP TABLE one;\n", "applied", 1, True),
        (
            2,
            AWKWARD.replace("\r\n", "\n") + "CREATE TABLE two (id int);\nSELECT 2;\n",
            "DROP TABLE two;\n",
            "applied",
            2,
            True,
        ),
        (
            3,
            "CREATE TABLE three (id int);\n",
            AWKWARD.replace("\r\n", "\n") + "DROP TABLE three;\n",
            "applied",
            1,
            True,
        ),
    ]
    assert run_cli(project, "validate").code == 0
    assert run_cli(project, "down", "--all").code == 0
    assert stored(db_dsn) == []
    assert query(db_dsn, "SELECT version, event FROM public.sqlmig_history_log ORDER BY id") == [
        (1, "up"), (2, "up"), (3, "up"), (3, "down"), (2, "down"), (1, "down"),
    ]  # fmt: skip


def test_migrations_that_drop_prepared_statements_are_recorded_and_so_are_the_next(
    tmp_path: Path, db_dsn: str
) -> None:
    # History is written by statements prepared once per connection. A file that deallocates
    # them by name (DEALLOCATE ALL) runs once, with plain statements, and the next file runs once
    # with statements prepared again (the sequence, which no rollback rewinds, counts runs). A
    # file that drops them without the word (through a function) finds them gone at its end, is
    # rolled back and runs again with plain statements.
    drop_all = "SELECT nextval('runs');\n"
    drop_all += "CREATE FUNCTION drop_all() RETURNS void LANGUAGE plpgsql AS $f$\nBEGIN\n"
    drop_all += "  EXECUTE 'DEALL' || 'OCATE ALL';\nEND\n$f$;\n"
    files = {
        **pair(1, "s", "CREATE SEQUENCE runs;\n", "DROP SEQUENCE runs;\n"),
        **pair(2, "a", "SELECT nextval('runs');\nCREATE TABLE a (id int);\nDEALLOCATE ALL;\n",
               "DROP TABLE a;\n"),
        **pair(3, "f", drop_all, "DROP FUNCTION drop_all();\n"),
        **pair(4, "d", "SELECT drop_all();\nCREATE TABLE d (id int);\n",
               "SELECT drop_all();\nDROP TABLE d;\n"),
        **pair(5, "e", "CREATE TABLE e (id int);\n", "DROP TABLE e;\n"),
    }  # fmt: skip
    project = make_project(tmp_path, db_dsn, files)
    result = run_cli(project, "up")
    assert result.code == 0, result.text
    assert query(db_dsn, "SELECT last_value FROM runs") == [(2,)]
    rows = stored(db_dsn)
    assert [(r[0], r[3], r[4]) for r in rows] == [
        (1, "applied", 1), (2, "applied", 3), (3, "applied", 2), (4, "applied", 2),
        (5, "applied", 1),
    ]  # fmt: skip
    assert [r[1] for r in rows] == [files[n] for n in sorted(files) if n.endswith(".up.sql")]
    assert {"a", "d", "e"} <= set(tables(db_dsn))
    assert run_cli(project, "validate").code == 0
    result = run_cli(project, "down", "--all")
    assert result.code == 0, result.text
    assert stored(db_dsn) == []
    assert query(db_dsn, "SELECT version, event FROM public.sqlmig_history_log ORDER BY id") == [
        (1, "up"), (2, "up"), (3, "up"), (4, "up"), (5, "up"),
        (5, "down"), (4, "down"), (3, "down"), (2, "down"), (1, "down"),
    ]  # fmt: skip
    assert not {"a", "d", "e"} & set(tables(db_dsn))
