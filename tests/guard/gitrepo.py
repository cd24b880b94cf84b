"""Real git repositories for the guard's tests: an origin with applied migrations, clones of it."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlmig.cli import main
from tests.helpers import Result

# Every git the tests run, and every git sqlmig runs for them, ignores the machine's and the
# user's configuration, so a developer's core.autocrlf or init.defaultBranch changes nothing.
GIT_ENV: Mapping[str, str] = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_TERMINAL_PROMPT": "0",
}

APPLIED = {
    "001_create_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    "001_create_users.down.sql": "DROP TABLE users;\n",
    "002_add_email.up.sql": "ALTER TABLE users ADD COLUMN email text;\n",
    "002_add_email.down.sql": "ALTER TABLE users DROP COLUMN email;\n",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Repo:
    """A work tree whose migrations live in ``folder`` (relative to the top)."""

    path: Path
    folder: str = "migrations"

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def file(self, name: str) -> Path:
        return self.path / self.folder / name

    def write(self, name: str, text: str, *, stage: bool = True) -> Path:
        path = self.file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        if stage:
            self.git("add", "--", str(path))
        return path

    def commit(self, message: str = "change") -> None:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--message", message)

    def check(self, *args: str, cwd: Path | None = None) -> Result:
        """``sqlmig check`` through main() in this process, from ``cwd`` (default: the top)."""
        with contextlib.chdir(cwd or self.path):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["check", *args])
        return Result(code, out.getvalue(), err.getvalue())


def seed(path: Path, folder: str = "migrations", files: Mapping[str, str] = APPLIED) -> Repo:
    """A new repository on branch main: config.yaml and ``files`` in ``folder``, committed."""
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch", "main")
    repo = Repo(path, folder)
    (path / "config.yaml").write_text(f"migrations: {folder}\n", encoding="utf-8")
    for name, text in files.items():
        repo.write(name, text, stage=False)
    repo.commit("applied migrations")
    return repo


def origin_and_clone(base: Path, folder: str = "migrations") -> tuple[Path, Repo]:
    """A bare origin holding the applied migrations on main, and a clone to work in."""
    seed(base / "seed", folder)
    origin = base / "origin.git"
    git(base, "clone", "--quiet", "--bare", str(base / "seed"), str(origin))
    git(base, "clone", "--quiet", str(origin), str(base / "work"))
    return origin, Repo(base / "work", folder)
