"""`sqlmig lint` and `sqlmig explain` through the CLI: formats, exit codes, cache, imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sqlmig.config import load_config
from sqlmig.lint import run
from tests.helpers import REPO, make_project, pair, run_cli

BAD_UP = "CREATE TABLE users (id uuid PRIMARY KEY);\n"
GOOD_UP = "CREATE TABLE IF NOT EXISTS users (id uuid PRIMARY KEY);\n"
DOWN = "DROP TABLE IF EXISTS users;\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return make_project(tmp_path, None, pair(1, "users", BAD_UP, DOWN))


def test_text_output_and_exit_1_on_errors(project: Path) -> None:
    result = run_cli(project, "lint")
    assert result.code == 1
    assert result.out == (
        "migrations/001_users.up.sql:1:14: IDEM001 create-table-without-if-not-exists: "
        "CREATE TABLE users without IF NOT EXISTS fails when the migration is re-run after a "
        "partial failure (relation already exists)\n"
        "  hint: CREATE TABLE IF NOT EXISTS users ...\n"
    )
    assert "1 lint finding (1 error) in 2 files" in result.err


def test_only_warnings_exit_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lint = {"severity": {"IDEM001": "warning"}}
    project = make_project(tmp_path, None, pair(1, "users", BAD_UP, DOWN), lint=lint)
    result = run_cli(project, "lint")
    assert result.code == 0
    assert "IDEM001" in result.out


def test_clean_files_exit_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path, None, pair(1, "users", GOOD_UP, DOWN))
    result = run_cli(project, "lint")
    assert (result.code, result.out) == (0, "")
    assert "no lint findings in 2 files" in result.err


def test_json_document_shape(project: Path) -> None:
    (project / "migrations" / "002_broken.up.sql").write_text("SELECT 'oops;\n")
    (project / "migrations" / "002_broken.down.sql").write_text("SELECT 1;\n")
    result = run_cli(project, "lint", "--format", "json")
    assert result.code == 2
    doc = json.loads(result.out)
    assert set(doc) == {"findings", "errors"}
    (finding,) = doc["findings"]
    assert finding == {
        "path": "migrations/001_users.up.sql",
        "line": 1,
        "column": 14,
        "rule": "IDEM001",
        "slug": "create-table-without-if-not-exists",
        "severity": "error",
        "message": finding["message"],
        "hint": "CREATE TABLE IF NOT EXISTS users ...",
    }
    assert doc["errors"] == [
        {
            "path": "migrations/002_broken.up.sql",
            "message": "unterminated quoted string starting at line 1, column 8",
        }
    ]


def test_github_annotations(project: Path) -> None:
    result = run_cli(project, "--format", "github", "lint")
    assert result.code == 1
    assert result.out.startswith(
        "::error file=migrations/001_users.up.sql,line=1,col=14,"
        "title=IDEM001 create-table-without-if-not-exists::CREATE TABLE users"
    )
    assert result.out.rstrip("\n").endswith("%0Ahint: CREATE TABLE IF NOT EXISTS users ...")


def test_github_format_is_refused_by_other_commands(project: Path) -> None:
    result = run_cli(project, "status", "--format", "github")
    assert result.code == 2
    assert "--format github is not available for status" in result.err


def test_unreadable_files_exit_2_and_name_the_place(project: Path) -> None:
    bad = project / "migrations" / "002_latin1.up.sql"
    bad.write_bytes(b"SELECT 'caf\xe9';\n")
    (project / "migrations" / "002_latin1.down.sql").write_text("SELECT 1;\n")
    result = run_cli(project, "lint")
    assert result.code == 2
    assert "sqlmig: error: migrations/002_latin1.up.sql: not valid UTF-8 at byte offset 11" in (
        result.err
    )
    assert "IDEM001" in result.out  # the other files are still linted


def test_paths_may_be_files_or_folders(project: Path) -> None:
    snippets = project / "snippets" / "nested"
    snippets.mkdir(parents=True)
    (snippets / "a.sql").write_text("CREATE INDEX IF NOT EXISTS a_idx ON t (a);\n")
    result = run_cli(project, "lint", "snippets", "migrations/001_users.down.sql")
    assert result.code == 1
    assert result.out.startswith("snippets/nested/a.sql:1:8: LOCK001 ")
    assert "001_users" not in result.out  # its down file is clean
    missing = run_cli(project, "lint", "nowhere.sql")
    assert missing.code == 2 and "nowhere.sql: does not exist" in missing.err


def test_all_targets_lints_every_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "001_x.up.sql").write_text(BAD_UP)
    targets = {"a": {"migrations": "a"}, "b": {"migrations": "b"}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"targets": targets}))
    result = run_cli(tmp_path, "lint", "--all-targets")
    assert [line.split(":")[0] for line in result.out.splitlines()[::2]] == [
        "a/001_x.up.sql",
        "a/001_x.up.sql",
        "b/001_x.up.sql",
        "b/001_x.up.sql",
    ]
    assert "CONV005" in result.out
    only_b = run_cli(tmp_path, "lint", "--target", "b")
    assert "a/001" not in only_b.out and "b/001" in only_b.out


def test_unknown_rules_in_the_config_are_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lint = {"disable": ["IDME001"]}
    project = make_project(tmp_path, None, pair(1, "users", GOOD_UP, DOWN), lint=lint)
    result = run_cli(project, "lint")
    assert result.code == 0
    assert "sqlmig: warning: lint.disable: unknown lint rule IDME001; did you mean IDEM001?" in (
        result.err
    )


def test_second_run_comes_from_the_cache(project: Path) -> None:
    config = load_config(project / "config.yaml", {}, project)
    folders = [project / "migrations"]
    first = run.lint(config, [], folders, project)
    second = run.lint(config, [], folders, project)
    assert (first.cached, second.cached) == (0, 2)
    assert second.findings == first.findings
    assert (project / ".sqlmig" / ".gitignore").read_text().endswith("*\n")
    assert run.lint(config, [], folders, project, use_cache=False).cached == 0


def test_cache_follows_edits_config_and_partner(project: Path) -> None:
    config = load_config(project / "config.yaml", {}, project)
    folders = [project / "migrations"]
    run.lint(config, [], folders, project)
    (project / "migrations" / "001_users.up.sql").write_text(GOOD_UP)
    edited = run.lint(config, [], folders, project)
    assert (edited.cached, edited.findings) == (0, [])  # the down file keys on its partner too
    (project / "migrations" / "001_users.down.sql").unlink()
    partner_gone = run.lint(config, [], folders, project)
    assert (partner_gone.cached, [f.rule for f in partner_gone.findings]) == (0, ["CONV005"])
    (project / "config.yaml").write_text(yaml.safe_dump({"lock_timeout": "1s"}))
    other = load_config(project / "config.yaml", {}, project)
    assert run.lint(other, [], folders, project).cached == 0


def test_editing_a_migration_relints_it_and_the_later_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    files = {**pair(1, "a", GOOD_UP, DOWN), **pair(2, "b", GOOD_UP, DOWN)}
    project = make_project(tmp_path, None, {**files, **pair(3, "c", GOOD_UP, DOWN)})
    config = load_config(project / "config.yaml", {}, project)
    folders = [project / "migrations"]
    assert run.lint(config, [], folders, project).cached == 0
    (project / "migrations" / "002_b.up.sql").write_text(BAD_UP)
    again = run.lint(config, [], folders, project)
    assert again.cached == 2  # 001 up and down; 002 and 003 read 002 as an earlier file
    assert [(f.path, f.rule) for f in again.findings] == [("migrations/002_b.up.sql", "IDEM001")]


def test_a_corrupt_cache_is_ignored_and_rewritten(project: Path) -> None:
    config = load_config(project / "config.yaml", {}, project)
    cache = project / ".sqlmig" / "cache" / "lint.json"
    cache.parent.mkdir(parents=True)
    for garbage in ("{not json", '{"format": 1, "entries": {"k": 1}}', "[]"):
        cache.write_text(garbage)
        report = run.lint(config, [], [project / "migrations"], project)
        assert [f.rule for f in report.findings] == ["IDEM001"]
    assert json.loads(cache.read_text())["format"] == 1


def test_explain_prints_the_rule_documentation(project: Path) -> None:
    result = run_cli(project, "explain", "lock001")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "LOCK001 create-index-not-concurrently (error)"
    for section in ("## What it catches", "## Why it hurts", "## Example", "## Use instead"):
        assert section in lines
    by_slug = run_cli(project, "explain", "missing-down-file")
    assert by_slug.out.startswith("CONV005 missing-down-file (error, not in down files)")


def test_explain_lists_rules_and_refuses_unknown_ones(project: Path) -> None:
    listing = run_cli(project, "explain")
    assert any(line.startswith("IDEM001 ") for line in listing.out.splitlines())
    unknown = run_cli(project, "explain", "IDEM01")
    assert unknown.code == 2
    assert "unknown lint rule 'IDEM01'" in unknown.err and "IDEM001" in unknown.err
    doc = json.loads(run_cli(project, "explain", "IDEM001", "--format", "json").out)
    assert doc["rule"] == "IDEM001" and "## Example" in doc["doc"]


@pytest.mark.parametrize(
    "command", [["lint"], ["explain", "LOCK001"], ["lint", "--format", "github"]]
)
def test_lint_and_explain_never_import_psycopg(project: Path, command: list[str]) -> None:
    code = (
        "import sys; from sqlmig.cli import main; "
        f"rc = main(['--config', {str(project / 'config.yaml')!r}, *{command!r}]); "
        "assert 'psycopg' not in sys.modules, 'psycopg was imported'; sys.exit(rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=project,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )  # fmt: skip
    assert "psycopg was imported" not in result.stderr
    assert result.returncode in (0, 1), result.stderr
