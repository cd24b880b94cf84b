"""The published hook, end to end: pre-commit installs this repository into a consumer repository
the way a user's ``.pre-commit-config.yaml`` does, and ``git commit`` runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.guard.gitrepo import GIT_ENV, Repo, git, origin_and_clone
from tests.helpers import REPO


def hook_repository(base: Path) -> tuple[Path, str]:
    """A clone of this repository at HEAD (pre-commit installs hooks from a git revision)."""
    clone = base / "sqlmig-hooks"
    git(base, "clone", "--quiet", "--no-checkout", str(REPO), str(clone))
    return clone, git(clone, "rev-parse", "HEAD").strip()


def commit(
    repo: Repo, env: dict[str, str], message: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "--message", message, *args],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_published_hook_guards_commits(tmp_path: Path) -> None:
    hooks, rev = hook_repository(tmp_path)
    _, repo = origin_and_clone(tmp_path)
    (repo.path / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hooks.as_uri()}\n  rev: {rev}\n  hooks:\n  - id: sqlmig-check\n"
    )
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache")}
    env.pop("SQLMIG_CONFIG", None)
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], cwd=repo.path, env=env, check=True
    )
    repo.git("add", ".pre-commit-config.yaml")
    first = commit(repo, env, "use the sqlmig hook")  # pre-commit builds the hook's venv here
    assert first.returncode == 0, first.stdout + first.stderr

    repo.write("001_create_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY, x int);\n")
    rejected = commit(repo, env, "edit an applied migration")
    assert rejected.returncode == 1, rejected.stdout + rejected.stderr
    said = rejected.stdout + rejected.stderr  # git shows a hook's output on its stderr
    assert "migrations/001_create_users.up.sql: modified since origin/main" in said
    assert "applied migrations are immutable; write a new migration instead" in said
    repo.git("restore", "--staged", "--worktree", "migrations/001_create_users.up.sql")

    repo.write("003_create_orders.up.sql", "CREATE TABLE IF NOT EXISTS orders (id bigint);\n")
    repo.write("003_create_orders.down.sql", "DROP TABLE IF EXISTS orders;\n")
    accepted = commit(repo, env, "add a migration")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr

    # commit -a stages into a temporary index (GIT_INDEX_FILE): the hook must read that one
    repo.write(
        "002_add_email.up.sql", "ALTER TABLE users ADD COLUMN email text;\n--\n", stage=False
    )
    all_files = commit(repo, env, "edit an applied migration, unstaged", "--all")
    assert all_files.returncode == 1, all_files.stdout + all_files.stderr
    assert "migrations/002_add_email.up.sql: modified" in all_files.stdout + all_files.stderr
    repo.git("restore", "migrations/002_add_email.up.sql")

    repo.git("rm", "--quiet", "migrations/002_add_email.down.sql")
    deleted = commit(repo, env, "delete an applied migration")
    assert deleted.returncode == 1, deleted.stdout + deleted.stderr
    assert "migrations/002_add_email.down.sql: deleted" in deleted.stdout + deleted.stderr
