"""``up`` with enough pending migrations that their scripts are checked by a second process while
this one connects: still nothing runs when one of them cannot, and the result is complete."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmig.ahead import FORK_MIN_FILES
from tests.helpers import history, make_project, pair, run_cli, run_process, tables

N = FORK_MIN_FILES // 2 + 50  # pairs: enough files for a child to read and check them


def migrations(n: int, bad: dict[int, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in range(1, n + 1):
        up = bad.get(v, f"CREATE TABLE t{v} (id int);\nCREATE INDEX t{v}_id ON t{v} (id);\n")
        out |= pair(v, f"table_{v}", up, f"DROP TABLE t{v};\n")
    return out


def test_a_bad_script_among_many_pending_refuses_the_run_before_anything_runs(
    tmp_path: Path, db_dsn: str
) -> None:
    bad = {
        N - 10: "CREATE TABLE late (id int);\nCOMMIT;\n",
        N - 5: "SELECT 'unterminated;\n",
    }
    project = make_project(tmp_path, db_dsn, migrations(N, bad))
    result = run_cli(project, "up")
    assert result.code == 2, result.text
    assert f"{N - 10:03d}_table_{N - 10}.up.sql:2:1: COMMIT in a migration" in result.err
    assert "sqlmig owns the transaction" in result.err
    assert tables(db_dsn) == set()  # not even the history table


def test_many_pending_are_applied_and_reported_whole(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, migrations(N, {}))
    result = run_cli(project, "--format", "json", "up")
    assert result.code == 0, result.text
    doc = json.loads(result.out)
    assert [m["version"] for m in doc["migrations"]] == list(range(1, N + 1))
    assert {m["status"] for m in doc["migrations"]} == {"applied"}
    last = doc["migrations"][-1]
    assert last["mode"] == "transaction"
    assert [s["sql"] for s in last["statements"]] == [
        f"CREATE TABLE t{N} (id int)",
        f"CREATE INDEX t{N}_id ON t{N} (id)",
    ]
    assert history(db_dsn) == [(v, "applied", 2) for v in range(1, N + 1)]
    again = run_cli(project, "up")
    assert again.code == 0 and "nothing to do" in again.err, again.text


def test_one_bad_pending_file_after_many_applied_is_refused(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, migrations(N, {}))
    assert run_cli(project, "up").code == 0
    (project / "migrations").joinpath(f"{N + 1:03d}_late.up.sql").write_text(
        "BEGIN;\nCREATE TABLE late (id int);\n"
    )
    (project / "migrations").joinpath(f"{N + 1:03d}_late.down.sql").write_text("DROP TABLE late;\n")
    result = run_cli(project, "up")
    assert result.code == 2, result.text
    assert f"{N + 1:03d}_late.up.sql:1:1: BEGIN in a migration" in result.err
    assert "late" not in tables(db_dsn)
    assert len(history(db_dsn)) == N


def test_the_command_writes_all_its_output_and_its_exit_code(tmp_path: Path, db_dsn: str) -> None:
    # the sqlmig process ends without the interpreter's teardown once main returns (and
    # without an unbuffered stdout here): the output is still complete, the exit code main's
    project = make_project(tmp_path, db_dsn, migrations(N, {}))
    assert run_cli(project, "up", "--to", str(N - 3)).code == 0
    buffered = {"PYTHONUNBUFFERED": ""}  # output waits in buffers until flushed
    result = run_process(project, "--format", "json", "status", "--exit-code", env=buffered)
    assert result.code == 1, result.err  # three are pending
    doc = json.loads(result.out)
    states = [m["state"] for m in doc["migrations"]]
    assert states == ["applied"] * (N - 3) + ["pending"] * 3
    result = run_process(project, "up", env=buffered)
    assert result.code == 0, result.err
    lines = result.err.splitlines()
    assert [line.split(" (")[0] for line in lines[:3]] == [
        f"applied {v:03d}_table_{v}" for v in range(N - 2, N + 1)
    ]
    assert len(lines) == 4 and lines[3].startswith("main: 3 applied in "), lines
