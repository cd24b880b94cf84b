"""Progress of long statements appears on a terminal, and never in a pipe or a log."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO, make_project, pair, run_process

SLOW = pair(
    1,
    "slow",
    "CREATE TABLE IF NOT EXISTS t (id int);\nSELECT pg_sleep(3.5);\n",
    "DROP TABLE IF EXISTS t;\n",
)


def _run_on_terminal(project: Path, *args: str) -> tuple[int, str]:
    """Run sqlmig with stderr on a pseudo-terminal; what the terminal showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sqlmig", "--config", str(project / "config.yaml"), *args],
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env={**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm"},
    )
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=30), shown.decode("utf-8", "replace")


def test_a_long_statement_shows_elapsed_time_on_a_terminal(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, SLOW)
    code, shown = _run_on_terminal(project, "up")
    assert code == 0, shown
    assert "001_slow.up.sql: running for " in shown
    assert "applied 001_slow" in shown


def test_nothing_of_the_progress_reaches_a_pipe(tmp_path: Path, db_dsn: str) -> None:
    project = make_project(tmp_path, db_dsn, SLOW)
    result = run_process(project, "up")
    assert result.code == 0, result.err
    assert "running for" not in result.text
    assert "\r" not in result.text and "\033[" not in result.text
