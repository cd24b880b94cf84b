"""A 50 MB migration file (a large seed) is split, applied and recorded like any other."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import make_project, pair, query, run_process

ROWS_PER_INSERT = 5_000
TARGET_BYTES = 50 * 1024 * 1024


def _seed_file() -> tuple[str, int]:
    """The SQL, and how many rows it inserts."""
    parts = ["CREATE TABLE IF NOT EXISTS seed (id bigint PRIMARY KEY, label text NOT NULL);\n"]
    size, next_id = len(parts[0]), 1
    while size < TARGET_BYTES:
        values = ",\n".join(
            f"({i}, 'label number {i} with some padding text; and a ''quote''')"
            for i in range(next_id, next_id + ROWS_PER_INSERT)
        )
        stmt = f"INSERT INTO seed (id, label) VALUES\n{values}\nON CONFLICT (id) DO NOTHING;\n"
        parts.append(stmt)
        size += len(stmt)
        next_id += ROWS_PER_INSERT
    return "".join(parts), next_id - 1


def test_a_fifty_megabyte_file_applies(tmp_path: Path, db_dsn: str) -> None:
    text, rows = _seed_file()
    assert len(text.encode()) >= TARGET_BYTES
    project = make_project(
        tmp_path, db_dsn, pair(1, "big_seed", text, "DROP TABLE IF EXISTS seed;\n")
    )
    result = run_process(project, "up", timeout=300)
    assert result.code == 0, result.err[-2000:]
    assert query(db_dsn, "SELECT count(*) FROM seed") == [(rows,)]
    assert query(
        db_dsn, "SELECT status, statements_done, length(up_sql) FROM public.sqlmig_history"
    ) == [("applied", 1 + text.count("INSERT INTO"), len(text))]
