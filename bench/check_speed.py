"""``sqlmig check`` wall time, one changed file in a folder of 1,000 migrations (SPEC 14: < 0.2 s).

Run: ``.venv/bin/python bench/check_speed.py [PAIRS]``. Builds a throwaway git repository with
PAIRS applied migration pairs on main and times whole ``python -m sqlmig check`` processes:
with a staged edit of one of them, passed as pre-commit passes it and without paths (as in CI),
then with a new pair staged instead (the linter runs on it).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 11
BUDGET_S = 0.2
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True)


def build(repo: Path, pairs: int) -> str:
    """The repository with ``pairs`` applied migrations; returns the staged file's path."""
    folder = repo / "migrations"
    folder.mkdir(parents=True)
    for i in range(1, pairs + 1):
        up = f"CREATE TABLE t{i} (id bigint, name text);\nCREATE INDEX ON t{i} (name);\n"
        (folder / f"{i:04d}_table_{i}.up.sql").write_text(up)
        (folder / f"{i:04d}_table_{i}.down.sql").write_text(f"DROP TABLE t{i};\n")
    (repo / "config.yaml").write_text("migrations: migrations\n")
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "applied")
    changed = f"migrations/{pairs // 2:04d}_table_{pairs // 2}.up.sql"
    with (repo / changed).open("a") as out:
        out.write("-- edited\n")
    git(repo, "add", changed)
    return changed


def timed(repo: Path, *args: str, expect: int = 1) -> list[float]:
    argv = [str(Path(sys.executable).parent / "sqlmig"), "check", *args]  # what pre-commit runs
    env = {**os.environ, **GIT_ENV}
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=repo, env=env, capture_output=True)
        times.append(time.perf_counter() - start)
        assert done.returncode == expect, done.stderr  # 1: the edit was found
    return times


def add_pair(repo: Path, pairs: int) -> list[str]:
    """Undo the staged edit and stage a new, lint-clean migration pair instead."""
    git(repo, "reset", "--quiet", "--hard")
    label = f"migrations/{pairs + 1:04d}_table_{pairs + 1}"
    (repo / f"{label}.up.sql").write_text("CREATE TABLE IF NOT EXISTS extra (id bigint);\n")
    (repo / f"{label}.down.sql").write_text("DROP TABLE IF EXISTS extra;\n")
    git(repo, "add", "migrations")
    return [f"{label}.up.sql", f"{label}.down.sql"]


def main() -> int:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="sqlmig-check-bench-") as tmp:
        repo = Path(tmp)
        changed = build(repo, pairs)
        rows = [("check --help (start-up and imports only)", timed(repo, "--help", expect=0))]
        rows.append(("check <the edited applied file> (pre-commit)", timed(repo, changed)))
        rows.append(("check (no paths: CI)", timed(repo)))
        new = add_pair(repo, pairs)
        rows.append(("check <a new pair> (pre-commit; lints it)", timed(repo, *new, expect=0)))
    print(f"python -m sqlmig check, {pairs} applied migration pairs: median (min) of {RUNS} runs")
    worst = 0.0
    for label, times in rows:
        median = statistics.median(times)
        print(f"  {median * 1000:6.0f} ms ({min(times) * 1000:.0f})  {label}")
        worst = max(worst, median) if "--help" not in label else worst
    print(f"budget {BUDGET_S * 1000:.0f} ms: {'met' if worst < BUDGET_S else 'MISSED'}")
    return 0 if worst < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
