"""Planning without a database: states, what up/down will do, resume safety, segments."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sqlmig.checksum import ALGORITHM, checksum, statement_hash
from sqlmig.errors import DriftError, MigrationFileError, StateError
from sqlmig.files import Directives, Migration, SqlFile, parse_directives
from sqlmig.plan import plan_down, plan_up, reconcile, resume_point
from sqlmig.records import HistoryRow
from sqlmig.script import Script, Segment, position


def sql_file(name: str, text: str, kind: str = "up") -> SqlFile:
    path = Path(name)
    return SqlFile(path, text, checksum(text), parse_directives(text, path, kind))  # type: ignore[arg-type]


def migration(version: int, up: str = "SELECT 1;", down: str = "SELECT 2;") -> Migration:
    name = f"m{version}"
    return Migration(
        version,
        name,
        sql_file(f"{version:03d}_{name}.up.sql", up),
        sql_file(f"{version:03d}_{name}.down.sql", down, "down"),
    )


def row(
    m: Migration,
    status: str = "applied",
    done: int = 1,
    direction: str = "up",
    up: str | None = None,
) -> HistoryRow:
    text = up if up is not None else m.up.text
    stmts = Script("x", text, Directives(), "up").statements
    return HistoryRow(
        version=m.version,
        name=m.name,
        checksum_up=checksum(text),
        checksum_down=m.down.checksum if m.down else None,
        checksum_algorithm=ALGORITHM,
        has_down_sql=m.down is not None,
        status=status,  # type: ignore[arg-type]
        direction=direction,  # type: ignore[arg-type]
        statements_done=done,
        statement_hashes=tuple(statement_hash(s.sql) for s in stmts[:done]),
        error=None,
        applied_at=datetime(2026, 1, 1, tzinfo=UTC),
        applied_by="me",
        client_host="here",
        execution_ms=1,
        sqlmig_version="0",
    )


def test_states_cover_applied_pending_changed_missing_and_out_of_order() -> None:
    m1, m2, m3, m4 = migration(1), migration(2, "SELECT 22;"), migration(3), migration(5)
    rows = {1: row(m1), 2: row(m2, up="SELECT 2;"), 4: row(migration(4)), 5: row(m4)}
    states = {e.version: e.state for e in reconcile([m1, m2, m3, m4], rows)}
    assert states == {
        1: "applied",
        2: "changed",
        3: "out-of-order",
        4: "missing-file",
        5: "applied",
    }


def test_an_edited_down_file_is_a_change_too() -> None:
    m = migration(1)
    applied = row(migration(1, down="SELECT 'old';"))
    assert reconcile([m], {1: applied})[0].state == "changed"


def test_up_refuses_drift_and_out_of_order_with_exit_code_1() -> None:
    m1, m2 = migration(1), migration(2)
    with pytest.raises(DriftError) as drift:
        plan_up(reconcile([m1], {1: row(m1, up="SELECT 0;")}))
    assert drift.value.exit_code == 1
    with pytest.raises(DriftError, match="older than the newest applied"):
        plan_up(reconcile([m1, m2], {2: row(m2)}))
    assert [
        e.version for e in plan_up(reconcile([m1, m2], {2: row(m2)}), allow_out_of_order=True)
    ] == [1]


def test_up_runs_unfinished_rows_first_then_pending_limited_by_to_and_step() -> None:
    ms = [migration(v) for v in (1, 2, 3, 4)]
    rows = {1: row(ms[0], status="partial", done=0)}
    entries = reconcile(ms, rows)
    assert [e.version for e in plan_up(entries)] == [1, 2, 3, 4]
    assert [e.version for e in plan_up(entries, to=2)] == [1, 2]
    assert [e.version for e in plan_up(entries, step=3)] == [1, 2, 3]


def test_up_refuses_while_a_down_was_interrupted() -> None:
    m = migration(1)
    with pytest.raises(StateError, match="reverting 001_m1 was interrupted") as exc:
        plan_up(reconcile([m], {1: row(m, status="partial", direction="down")}))
    assert "run 'sqlmig down'" in exc.value.hint


def test_down_defaults_to_the_last_applied_and_to_reverts_above_v() -> None:
    ms = [migration(v) for v in (1, 2, 3)]
    entries = reconcile(ms, {m.version: row(m) for m in ms})
    assert [e.version for e in plan_down(entries)] == [3]
    assert [e.version for e in plan_down(entries, step=2)] == [3, 2]
    assert [e.version for e in plan_down(entries, to=1)] == [3, 2]
    assert [e.version for e in plan_down(entries, everything=True)] == [3, 2, 1]


def test_resume_point_accepts_edits_after_the_done_statements_only() -> None:
    text = "CREATE TABLE a (x int);\nCREATE INDEX CONCURRENTLY i ON a (x);\nSELECT 1/0;\n"
    m = migration(1, text)
    failed = row(m, status="failed", done=2)
    fixed = Script("f", text.replace("1/0", "1"), Directives(), "up")
    assert resume_point(fixed.statements, failed) == 2
    edited = Script("f", text.replace("x int", "y int"), Directives(), "up")
    with pytest.raises(StateError, match=r"statement 1 \(line 1\) changed after it ran"):
        resume_point(edited.statements, failed)
    with pytest.raises(StateError, match="history says 2 statements ran"):
        resume_point(Script("f", "SELECT 1;", Directives(), "up").statements, failed)


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);\n", [Segment(0, 2, True)]),
        (
            "CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);\nCREATE INDEX CONCURRENTLY i ON a (x);\n"
            "CREATE INDEX CONCURRENTLY j ON a (x);\nALTER TABLE a ADD COLUMN y int;\n",
            [Segment(0, 2, True), Segment(2, 3, False), Segment(3, 4, False), Segment(4, 5, True)],
        ),
        (
            "-- sqlmig:no-transaction\nSELECT 1;\nSELECT 2;\n",
            [Segment(0, 1, False), Segment(1, 2, False)],
        ),
        ("-- only a comment\n", []),
    ],
    ids=["one-transaction", "runs-and-alone", "no-transaction", "empty"],
)
def test_segments(text: str, segments: list[Segment]) -> None:
    assert Script("f", text, parse_directives(text, Path("f"), "up"), "up").segments == segments


def test_transaction_control_is_refused_only_where_sqlmig_owns_the_transaction() -> None:
    text = "CREATE TABLE a (x int);\n  COMMIT;\n"
    with pytest.raises(
        MigrationFileError, match=r"^f:2:3: COMMIT in a migration: sqlmig owns the transaction"
    ):
        Script("f", text, Directives(), "up").check_runnable()
    Script("f", text, Directives(no_transaction=True), "up").check_runnable()


def test_a_begin_atomic_function_is_not_transaction_control() -> None:
    text = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n"
    script = Script("f", text, Directives(), "up")
    script.check_runnable()  # raises MigrationFileError if its BEGIN were taken for BEGIN;
    assert [s.sql for s in script.statements] == [text.strip().rstrip(";")]
    assert script.mode == "transaction"


def test_unterminated_quote_names_the_file_and_position() -> None:
    with pytest.raises(MigrationFileError, match=r"^f\.sql:2:"):
        _ = Script("f.sql", "SELECT 1;\nSELECT $$oops;\n", Directives(), "up").statements


@pytest.mark.parametrize(
    ("offset", "expected"), [(0, (1, 1)), (4, (1, 5)), (6, (2, 1)), (9, (2, 4))]
)
def test_position_is_one_based(offset: int, expected: tuple[int, int]) -> None:
    assert position("hello\nworld", offset) == expected
