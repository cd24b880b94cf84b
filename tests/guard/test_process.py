"""``sqlmig check`` as pre-commit runs it: a real process, no database module, and ``--db``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.guard.gitrepo import Repo, origin_and_clone
from tests.helpers import REPO

PROBE = """
import sys
from sqlmig.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split(".")[0] == "psycopg" or m == "sqlmig.sql.lexer")
print(" ".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def probe(repo: Repo, *args: str) -> tuple[int, str]:
    """Exit code and the heavy modules a ``check`` run imported, from a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "check", *args],
        cwd=repo.path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(repo.path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, done.stderr.splitlines()[-1]


def test_check_never_imports_psycopg(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    assert probe(repo) == (0, "")  # nor the SQL lexer: nothing new to lint
    repo.write("001_create_users.up.sql", "SELECT 'edited';\n")
    code, heavy = probe(repo, "migrations/001_create_users.up.sql")
    assert code == 1
    assert "psycopg" not in heavy


def use_database(repo: Repo, dsn: str) -> None:
    config = {"migrations": "migrations", "dsn": dsn}
    (repo.path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def test_db_also_compares_with_the_history(tmp_path: Path, db_dsn: str) -> None:
    _, repo = origin_and_clone(tmp_path)
    use_database(repo, db_dsn)
    assert repo.check("--db").code == 0
    up = subprocess.run(
        [sys.executable, "-m", "sqlmig", "up"], cwd=repo.path, capture_output=True, text=True
    )
    assert up.returncode == 0, up.stderr
    # Merged on main after it was applied (someone skipped the hook): git cannot see it any
    # more, the database can.
    repo.write("002_add_email.up.sql", "ALTER TABLE users ADD COLUMN email varchar(200);\n")
    repo.git("commit", "--quiet", "--message", "edit", "--", "migrations")
    repo.git("push", "--quiet", "origin", "main")
    assert repo.check().code == 0
    result = repo.check("--db", "--format", "json")
    assert result.code == 1, result.text
    [history] = json.loads(result.out)["history"]
    assert [(p["version"], p["kind"]) for p in history["problems"]] == [(2, "changed")]


def test_db_skips_a_database_that_does_not_answer(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    use_database(repo, "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    result = repo.check("--db")
    assert result.code == 0, result.text
    assert "target default: history not checked:" in result.err
