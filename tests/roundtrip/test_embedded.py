"""``sqlmig test`` with no --admin-dsn uses the project's embedded PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg

from sqlmig.embedded import EmbeddedServer
from tests.helpers import make_project, pair, run_cli


def test_the_default_scratch_server_is_the_embedded_one(reachable_tmp_path: Path) -> None:
    files = pair(1, "create_notes", "CREATE TABLE notes (id int);", "DROP TABLE notes;")
    project = make_project(reachable_tmp_path, None, files)
    result = run_cli(project, "test", "--format", "json")
    assert result.code == 0, result.text
    assert json.loads(result.out)["migrations"][0]["ok"] is True
    assert "started the embedded PostgreSQL" in result.err
    assert "testing 1 migration on scratch database sqlmig_test_" in result.err
    # the server stays up for the next run (the fixture stops it); the scratch database is gone
    url = EmbeddedServer(project).url()
    assert scratch_databases(url) == []

    # a run killed with SIGKILL leaves its database: the next run on this server drops it
    stale = f"sqlmig_test_{dead_pid()}_1"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{stale}"'.encode())
    assert run_cli(project, "test").code == 0
    assert scratch_databases(url) == []


def dead_pid() -> int:
    """The id of a process that has exited."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def scratch_databases(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sqlmig%'")
        return [str(r[0]) for r in rows.fetchall()]
