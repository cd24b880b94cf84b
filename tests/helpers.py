"""Shared test helpers: throwaway projects, running the CLI in-process or as a real process."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml

from sqlmig.cli import main

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def make_project(
    root: Path,
    dsn: str | None,
    migrations: dict[str, str],
    **settings: object,
) -> Path:
    """A project folder with config.yaml (one target 'main') and the given migration files."""
    folder = root / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in migrations.items():
        (folder / name).write_text(text, encoding="utf-8")
    target: dict[str, object] = {"migrations": "migrations"}
    if dsn is not None:
        target["dsn"] = dsn
    config: dict[str, object] = {"targets": {"main": target}, **settings}
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return root


def pair(version: int, name: str, up: str, down: str) -> dict[str, str]:
    return {f"{version:03d}_{name}.up.sql": up, f"{version:03d}_{name}.down.sql": down}


def run_cli(project: Path, *args: str) -> Result:
    """Run sqlmig's main() in this process with the project's config."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--config", str(project / "config.yaml"), *args])
    return Result(code, out.getvalue(), err.getvalue())


def spawn(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start sqlmig as a real process (for kill -9 and concurrency tests)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sqlmig", "--config", str(project / "config.yaml"), *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


def run_process(
    project: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> Result:
    proc = spawn(project, *args, env=env)
    out, err = proc.communicate(timeout=timeout)
    return Result(proc.returncode, out, err)


def query(dsn: str, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def tables(dsn: str) -> set[str]:
    rows = query(dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {str(r[0]) for r in rows}


def history(dsn: str) -> list[tuple[object, ...]]:
    return query(
        dsn, "SELECT version, status, statements_done FROM public.sqlmig_history ORDER BY version"
    )


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)
