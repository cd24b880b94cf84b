"""Fixtures for round-trip tests: a role to grant to, and running ``sqlmig test`` on a project."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Result, make_project, query, run_cli

RoundTrip = Callable[..., Result]


@pytest.fixture(scope="session")
def grantee(pg_admin_dsn: str) -> Iterator[str]:
    """A role of the session's server that migrations may grant privileges to."""
    role = f"sqlmig_rt_reader_{os.getpid()}"
    query(pg_admin_dsn, f"CREATE ROLE {role}")
    yield role
    query(pg_admin_dsn, f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
def roundtrip(tmp_path: Path, pg_admin_dsn: str) -> RoundTrip:
    """``roundtrip(files, *args)``: ``sqlmig test --admin-dsn`` on a project of those files."""

    def run(files: dict[str, str], *args: str) -> Result:
        project = make_project(tmp_path, None, files)
        return run_cli(project, "test", "--admin-dsn", pg_admin_dsn, *args)

    return run


def report(result: Result, version: int) -> dict[str, Any]:
    """The JSON report of one migration from ``sqlmig test --format json`` output."""
    doc = json.loads(result.out)
    found: dict[str, Any] = next(m for m in doc["migrations"] if m["version"] == version)
    return found
