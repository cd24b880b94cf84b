"""``sqlmig test`` with no --admin-dsn uses the project's embedded PostgreSQL."""

from __future__ import annotations

import json
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
    # the scratch database is gone; the server stays up for the next run (the fixture stops it)
    with psycopg.connect(EmbeddedServer(project).url(), autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sqlmig%'")
        assert rows.fetchall() == []
