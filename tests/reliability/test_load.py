"""Parallel deploys: 8 `sqlmig up` at once against 200 pending migrations apply each exactly once."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import make_project, pair, query, spawn

PROCESSES = 8
MIGRATIONS = 200


def _migrations() -> dict[str, str]:
    files: dict[str, str] = {}
    for v in range(1, MIGRATIONS + 1):
        up = (
            f"CREATE TABLE IF NOT EXISTS t{v} (id bigint PRIMARY KEY, note text);\n"
            f"INSERT INTO t{v} VALUES (1, 'once') ON CONFLICT DO NOTHING;\n"
            f"INSERT INTO applied_log VALUES ({v});\n"  # a second run of any up would show here
        )
        files.update(pair(v, f"table_{v}", up, f"DROP TABLE IF EXISTS t{v};\n"))
    return files


def test_eight_parallel_ups_apply_each_migration_exactly_once(tmp_path: Path, db_dsn: str) -> None:
    query(db_dsn, "CREATE TABLE applied_log (version int)")
    project = make_project(tmp_path, db_dsn, _migrations())
    procs = [spawn(project, "up", "--lock-wait", "120") for _ in range(PROCESSES)]
    results = [(p, *p.communicate(timeout=180)) for p in procs]

    assert [p.returncode for p, _, _ in results] == [0] * PROCESSES, [e for _, _, e in results]
    assert query(db_dsn, "SELECT count(*), count(DISTINCT version) FROM applied_log") == [
        (MIGRATIONS, MIGRATIONS)
    ]
    assert query(db_dsn, "SELECT count(*) FROM public.sqlmig_history WHERE status = 'applied'") == [
        (MIGRATIONS,)
    ]
    events = query(
        db_dsn, "SELECT version, client_pid FROM public.sqlmig_history_log WHERE event = 'up'"
    )
    assert sorted(int(str(v)) for v, _ in events) == list(range(1, MIGRATIONS + 1))
    # the first process to take the deploy lock applies all; the log names it; the rest wait
    appliers = [p for p, _, err in results if "applied 001_table_1 " in err]
    assert len(appliers) == 1
    assert {pid for _, pid in events} == {appliers[0].pid}
    assert sum("nothing to do" in err for _, _, err in results) == PROCESSES - 1
