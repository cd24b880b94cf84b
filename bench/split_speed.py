"""Splitting speed: sqlmig.split_statements against sqlparse.split on ~5 MiB of migration SQL.

SPEC section 14 asks for at least 5x. Run: ``.venv/bin/python bench/split_speed.py [MiB]``.
The SQL is generated (fixed seed) to look like real migrations: tables, indexes, comments,
plpgsql functions in dollar quotes, DO blocks, views, and INSERTs with quoted strings.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
from sqlmig.sql.split import split_statements

RUNS = 3
TYPES = ("int", "text", "timestamptz", "numeric(12,2)", "jsonb")
CONSTRAINTS = ("", " NOT NULL", " DEFAULT 'none'", " DEFAULT now()")


def table(n: int, rnd: random.Random) -> str:
    columns = ",\n".join(
        f"    col_{i} {rnd.choice(TYPES)}{rnd.choice(CONSTRAINTS)}"
        for i in range(rnd.randint(3, 12))
    )
    return (
        f"-- table {n}: created for feature #{n * 7}\n"
        f"CREATE TABLE IF NOT EXISTS app.t_{n} (\n    id bigserial PRIMARY KEY,\n{columns}\n);\n"
        f"CREATE INDEX IF NOT EXISTS t_{n}_col_0_idx ON app.t_{n} (col_0);\n"
        f"COMMENT ON TABLE app.t_{n} IS 'Table {n}; keeps ''things'' (see docs)';\n"
    )


def function(n: int, rnd: random.Random) -> str:
    body = "\n".join(
        f"    IF NEW.col_{i} IS NULL THEN\n        NEW.col_{i} := 'x;{i}';\n    END IF;"
        for i in range(rnd.randint(2, 8))
    )
    return (
        f"/* trigger function {n}\n * keeps rows tidy; see $$ in docs */\n"
        f"CREATE OR REPLACE FUNCTION app.tidy_{n}() RETURNS trigger\n"
        f"LANGUAGE plpgsql AS $fn$\nBEGIN\n{body}\n    RETURN NEW;\nEND;\n$fn$;\n"
        f"CREATE TRIGGER tidy_{n} BEFORE INSERT ON app.t_{n} "
        f"FOR EACH ROW EXECUTE FUNCTION app.tidy_{n}();\n"
    )


def data(n: int, rnd: random.Random) -> str:
    rows = ",\n".join(
        f"    ({i}, 'name {i}; it''s {rnd.random():.4f}', E'line\\n{i}', {rnd.randint(0, 9999)})"
        for i in range(rnd.randint(5, 40))
    )
    return f"INSERT INTO app.lookup_{n} (id, label, note, weight) VALUES\n{rows};\n"


def misc(n: int, rnd: random.Random) -> str:
    return (
        f"DO $$\nBEGIN\n    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'r_{n}') THEN\n"
        f"        CREATE ROLE r_{n};\n    END IF;\nEND\n$$;\n"
        f"CREATE OR REPLACE VIEW app.v_{n} AS SELECT id, col_0 FROM app.t_{n} "
        f"WHERE col_0 IS NOT NULL; -- view {n}\n"
        f"ALTER TABLE app.t_{n} ADD COLUMN IF NOT EXISTS extra_{n} text DEFAULT 'a\\b';\n"
    )


def corpus(mib: float) -> str:
    rnd = random.Random(42)
    parts: list[str] = []
    size = 0
    n = 0
    makers = (table, function, data, misc)
    while size < mib * 1024 * 1024:
        part = makers[n % len(makers)](n, rnd)
        parts.append(part)
        size += len(part.encode())
        n += 1
    return "".join(parts)


def median_seconds(fn: Callable[[str], object], text: str) -> float:
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    mib = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    text = corpus(mib)
    statements = split_statements(text)
    size = len(text.encode()) / 1024 / 1024
    print(f"input: {size:.2f} MiB, {len(text.splitlines())} lines, {len(statements)} statements")
    ours = median_seconds(split_statements, text)
    print(f"sqlmig.split_statements  {ours:8.3f} s  ({size / ours:6.1f} MiB/s)")
    theirs = median_seconds(sqlparse.split, text)
    print(f"sqlparse.split           {theirs:8.3f} s  ({size / theirs:6.1f} MiB/s)")
    print(f"speed-up: {theirs / ours:.1f}x (median of {RUNS})")


if __name__ == "__main__":
    main()
