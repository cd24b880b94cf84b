"""The floor for a Python runner: a minimal psycopg 3 loop over sqlmig-layout migrations.

``python bench/loop.py up|down URL FOLDER``. One connection; per migration: ``BEGIN``; the
whole file as one query string (simple protocol); a history insert (``up``) or delete
(``down``); ``COMMIT``. No lock, no checksum, no splitting, no error reporting: only what any
runner must do, so that SPEC 14's "within 1.5x of a minimal psycopg loop" has a fixed floor.
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

HISTORY = (
    "CREATE TABLE IF NOT EXISTS loop_history (version bigint PRIMARY KEY, name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())"
)


def main() -> int:
    direction, url, folder = sys.argv[1:4]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(HISTORY)
        applied = {int(r[0]) for r in conn.execute("SELECT version FROM loop_history")}
        suffix = f".{direction}.sql"
        paths = sorted(Path(folder).glob(f"*{suffix}"), reverse=direction == "down")
        for path in paths:
            label = path.name.removesuffix(suffix)
            digits, _, name = label.partition("_")
            version = int(digits)
            if (version in applied) == (direction == "up"):
                continue
            conn.execute("BEGIN")
            conn.execute(path.read_text().encode())
            if direction == "up":
                conn.execute(
                    "INSERT INTO loop_history (version, name) VALUES (%s, %s)", (version, name)
                )
            else:
                conn.execute("DELETE FROM loop_history WHERE version = %s", (version,))
            conn.execute("COMMIT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
