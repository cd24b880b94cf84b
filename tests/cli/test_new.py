"""`sqlmig new`: the next pair of files, numbered as configured, never overwriting."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO, make_project, pair, run_cli


def test_new_creates_the_next_sequence_pair(tmp_path: Path) -> None:
    project = make_project(tmp_path, None, pair(7, "first", "SELECT 1;\n", "SELECT 1;\n"))
    result = run_cli(project, "new", "add_users_email")
    assert result.code == 0, result.text
    created = [Path(p).name for p in result.out.split()]
    assert created == ["008_add_users_email.up.sql", "008_add_users_email.down.sql"]
    assert (project / "migrations" / "008_add_users_email.up.sql").is_file()


def test_new_in_timestamp_mode_uses_utc_seconds(tmp_path: Path) -> None:
    project = make_project(tmp_path, None, {}, versioning="timestamp")
    result = run_cli(project, "new", "add_index")
    assert result.code == 0, result.text
    assert re.fullmatch(r"\d{14}_add_index\.up\.sql", Path(result.out.split()[0]).name)


def test_new_from_a_template_copies_its_text(tmp_path: Path) -> None:
    project = make_project(tmp_path, None, {})
    template = tmp_path / "tpl.up.sql"
    template.write_text("-- sqlmig:lock-timeout 2s\nSELECT 'template';\n")
    result = run_cli(project, "new", "from_template", "--template", str(template))
    assert result.code == 0, result.text
    up = project / "migrations" / "001_from_template.up.sql"
    assert up.read_text() == template.read_text()


def test_new_refuses_to_reuse_a_name(tmp_path: Path) -> None:
    project = make_project(tmp_path, None, pair(1, "add_users", "SELECT 1;\n", "SELECT 1;\n"))
    result = run_cli(project, "new", "add_users")
    assert result.code == 2
    assert "add_users" in result.err and "hint:" in result.err
    assert sorted(p.name for p in (project / "migrations").iterdir()) == [
        "001_add_users.down.sql",
        "001_add_users.up.sql",
    ]


def test_new_never_imports_psycopg(tmp_path: Path) -> None:
    project = make_project(tmp_path, None, {})
    code = (
        "import sys; from sqlmig.cli import main; "
        f"rc = main(['--config', {str(project / 'config.yaml')!r}, 'new', 'x']); "
        "assert 'psycopg' not in sys.modules, 'psycopg was imported'; sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_status_still_shows_the_table_with_an_unwritten_new_migration(
    tmp_path: Path, db_dsn: str
) -> None:
    project = make_project(tmp_path, db_dsn, pair(1, "first", "SELECT 1;\n", "SELECT 1;\n"))
    assert run_cli(project, "new", "second").code == 0
    result = run_cli(project, "status")
    assert result.code == 2
    assert "001      first  pending" in result.out
    assert "002_second" in result.err and "no SQL statement" in result.err
    doc = json.loads(run_cli(project, "status", "--format", "json").out)
    assert [m["version"] for m in doc["migrations"]] == [1]
    assert doc["errors"] and "002_second" in doc["errors"][0]["path"]
