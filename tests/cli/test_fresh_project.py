"""A new user's first run: no database, no environment, the example migrations, the real script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlmig.embedded import EmbeddedServer
from tests.helpers import REPO

ENV_WITHOUT_DB = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLMIG_CONFIG")}


def sqlmig(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sqlmig", *args],
        cwd=project,
        env={**ENV_WITHOUT_DB, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def example_project(reachable_tmp_path: Path) -> Iterator[Path]:
    """A copy of the repository's config.yaml and migrations/; its embedded server is stopped after."""
    yield from _copy_examples(reachable_tmp_path)


@pytest.fixture
def private_project(tmp_path: Path) -> Iterator[Path]:
    """The same, under pytest's own tmp folder, which is 0700: as root, the server user cannot
    enter it, as with a project under /root."""
    yield from _copy_examples(tmp_path)


def _copy_examples(tmp_path: Path) -> Iterator[Path]:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "config.yaml", project / "config.yaml")
    shutil.copytree(REPO / "migrations", project / "migrations")
    try:
        yield project
    finally:
        sqlmig(project, "db", "stop")
        server = EmbeddedServer(project)
        if server.relocated:
            shutil.rmtree(server.server_home, ignore_errors=True)


def test_first_migrate_uses_the_embedded_server_and_applies_the_examples(
    example_project: Path,
) -> None:
    first = sqlmig(example_project, "up")
    assert first.returncode == 0, first.stderr
    assert "started the embedded PostgreSQL" in first.stderr
    examples = len(list((REPO / "migrations").glob("*.up.sql")))
    assert sum(line.startswith("applied ") for line in first.stderr.splitlines()) == examples
    assert f"core: {examples} applied in " in first.stderr

    again = sqlmig(example_project, "migrate")
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr

    status = sqlmig(example_project, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert doc["target"] == "core"
    assert {m["state"] for m in doc["migrations"]} == {"applied"}
    assert len(doc["migrations"]) == 7

    data_dir = example_project / ".sqlmig" / "pgdata"
    assert data_dir.is_dir() and (data_dir.stat().st_mode & 0o777) == 0o700


def test_examples_go_down_and_up_again_cleanly(example_project: Path) -> None:
    assert sqlmig(example_project, "up").returncode == 0
    down = sqlmig(example_project, "down", "--all")
    assert down.returncode == 0, down.stderr
    assert sum(line.startswith("reverted ") for line in down.stderr.splitlines()) == 7
    assert "core: 7 reverted in " in down.stderr
    up = sqlmig(example_project, "up")
    assert up.returncode == 0, up.stderr


def test_db_url_prints_a_dsn_and_status_reports_the_server(example_project: Path) -> None:
    started = sqlmig(example_project, "db", "start")
    assert started.returncode == 0, started.stderr
    url = sqlmig(example_project, "db", "url")
    assert url.returncode == 0 and url.stdout.startswith("postgresql://")
    status = sqlmig(example_project, "db", "status", "--format", "json")
    assert json.loads(status.stdout)["running"] is True
    assert sqlmig(example_project, "db", "stop").returncode == 0
    assert (
        json.loads(sqlmig(example_project, "db", "status", "--format", "json").stdout)["running"]
        is False
    )


def test_a_project_the_server_user_cannot_enter_still_migrates(private_project: Path) -> None:
    result = sqlmig(private_project, "up")
    assert result.returncode == 0, result.stderr
    if os.geteuid() == 0:
        assert "so its data lives in /var/tmp/sqlmig-" in result.stderr
    doc = json.loads(sqlmig(private_project, "status", "--format", "json").stdout)
    assert {m["state"] for m in doc["migrations"]} == {"applied"}
