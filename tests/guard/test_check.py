"""`sqlmig check` in real git repositories: applied migrations (those at the ref) never change."""

from __future__ import annotations

import json
from pathlib import Path

from tests.guard.gitrepo import APPLIED, Repo, git, origin_and_clone, seed

NEW_UP = "CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY);\n"
NEW_DOWN = "DROP TABLE IF EXISTS orders;\n"
HINT = "hint: applied migrations are immutable; write a new migration instead"


def add_new(repo: Repo, version: int = 3, name: str = "create_orders") -> None:
    repo.write(f"{version:03d}_{name}.up.sql", NEW_UP)
    repo.write(f"{version:03d}_{name}.down.sql", NEW_DOWN)


def immutability(repo: Repo, *args: str) -> list[dict[str, object]]:
    result = repo.check("--format", "json", *args)
    doc = json.loads(result.out)
    assert set(doc) >= {"findings", "errors", "immutability"}
    items: list[dict[str, object]] = doc["immutability"]
    return items


def test_a_fresh_clone_passes(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    result = repo.check()
    assert result.code == 0, result.text
    assert result.out == ""
    assert "origin/main" in result.err


def test_an_edited_applied_migration_is_rejected_with_its_diff(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.write("001_create_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY, x int);\n")
    result = repo.check()
    assert result.code == 1, result.text
    assert "migrations/001_create_users.up.sql: modified since origin/main" in result.out
    assert "-CREATE TABLE users (id bigint PRIMARY KEY);" in result.out
    assert "+CREATE TABLE users (id bigint PRIMARY KEY, x int);" in result.out
    assert HINT in result.out


def test_json_names_the_modified_file(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.write("002_add_email.down.sql", "-- edited comment\n" + APPLIED["002_add_email.down.sql"])
    assert immutability(repo) == [
        {
            "path": "migrations/002_add_email.down.sql",
            "reason": "modified",
            "new_path": None,
            "diff": (
                "--- applied/migrations/002_add_email.down.sql\n"
                "+++ file/migrations/002_add_email.down.sql\n"
                "@@ -1 +1,2 @@\n"
                "+-- edited comment\n"
                " ALTER TABLE users DROP COLUMN email;\n"
            ),
        }
    ]


def test_a_deleted_applied_migration_is_rejected(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.git("rm", "--quiet", "migrations/002_add_email.down.sql")
    result = repo.check()
    assert result.code == 1
    assert "migrations/002_add_email.down.sql: deleted (it exists at origin/main)" in result.out
    assert HINT in result.out


def test_a_renamed_applied_migration_is_rejected(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    for kind in ("up", "down"):
        repo.git("mv", f"migrations/002_add_email.{kind}.sql", f"migrations/003_email.{kind}.sql")
    assert immutability(repo) == [
        {
            "path": f"migrations/002_add_email.{kind}.sql",
            "reason": "renamed",
            "new_path": f"migrations/003_email.{kind}.sql",
            "diff": "",
        }
        for kind in ("down", "up")
    ]


def test_a_renumbered_file_keeping_version_and_name_counts_as_renamed(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.git("rm", "--quiet", "migrations/001_create_users.up.sql")
    repo.write("1_create_users.up.sql", "CREATE TABLE members (id int, name text, x int);\n")
    [violation] = immutability(repo, "--worktree")
    assert violation["reason"] == "renamed"
    assert violation["new_path"] == "migrations/1_create_users.up.sql"


def test_a_new_migration_is_accepted(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    add_new(repo)
    result = repo.check()
    assert result.code == 0, result.text


def test_a_migration_not_on_the_ref_yet_may_be_edited(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    add_new(repo)
    repo.commit("add orders (not pushed)")
    repo.write(
        "003_create_orders.up.sql",
        NEW_UP + "CREATE INDEX IF NOT EXISTS orders_id_idx ON orders (id);\n",
    )
    result = repo.check()
    assert result.code == 0, result.text


def test_an_edit_merged_after_the_clone_is_judged_against_the_fetched_ref(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    add_new(repo)
    repo.commit("add orders")
    repo.git("push", "--quiet", "origin", "main")
    repo.write("003_create_orders.up.sql", NEW_UP + "-- later\n")
    result = repo.check()
    assert result.code == 1
    assert "migrations/003_create_orders.up.sql: modified" in result.out


def test_the_index_is_checked_unless_worktree_is_asked(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.write("001_create_users.up.sql", "SELECT 'unstaged';\n", stage=False)
    assert repo.check().code == 0
    worktree = repo.check("--worktree")
    assert worktree.code == 1
    assert "migrations/001_create_users.up.sql: modified" in worktree.out


def test_a_staged_edit_undone_in_the_worktree_still_fails_the_commit(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.write("001_create_users.up.sql", "SELECT 'staged';\n")
    repo.write("001_create_users.up.sql", APPLIED["001_create_users.up.sql"], stage=False)
    assert repo.check().code == 1
    assert repo.check("--worktree").code == 0


def test_an_unknown_ref_is_an_error_naming_it(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    result = repo.check("--ref", "origin/release")
    assert result.code == 2
    assert "git ref 'origin/release' does not exist" in result.err
    assert "hint: fetch it (git fetch origin release) or pass another --ref" in result.err


def test_a_repository_without_remote_compares_with_main(tmp_path: Path) -> None:
    repo = seed(tmp_path / "solo")
    repo.git("switch", "--quiet", "--create", "feature")
    add_new(repo)
    assert repo.check().code == 0
    repo.write("001_create_users.down.sql", "DROP TABLE users CASCADE;\n")
    result = repo.check()
    assert result.code == 1
    assert "migrations/001_create_users.down.sql: modified since main" in result.out


def test_without_origin_main_or_main_it_says_what_to_fetch(tmp_path: Path) -> None:
    repo = seed(tmp_path / "solo")
    repo.git("branch", "--move", "main", "trunk")
    result = repo.check()
    assert result.code == 2
    assert "neither origin/main nor main exists" in result.err
    assert "git fetch origin main" in result.err


def test_immutable_ref_from_the_config_is_used(tmp_path: Path) -> None:
    repo = seed(tmp_path / "solo")
    repo.git("branch", "--move", "main", "trunk")
    (repo.path / "config.yaml").write_text("migrations: migrations\nimmutable_ref: trunk\n")
    repo.write("002_add_email.up.sql", "SELECT 'edited';\n")
    result = repo.check()
    assert result.code == 1
    assert "modified since trunk" in result.out


def test_a_shallow_clone_works(tmp_path: Path) -> None:
    origin, _ = origin_and_clone(tmp_path)
    git(tmp_path, "clone", "--quiet", "--depth", "1", origin.as_uri(), "shallow")
    repo = Repo(tmp_path / "shallow")
    assert repo.git("rev-parse", "--is-shallow-repository").strip() == "true"
    add_new(repo)
    assert repo.check().code == 0
    repo.write("001_create_users.up.sql", "SELECT 'edited';\n")
    assert repo.check().code == 1


def test_a_shallow_branch_clone_needs_the_ref_fetched(tmp_path: Path) -> None:
    origin, work = origin_and_clone(tmp_path)
    work.git("switch", "--quiet", "--create", "feature")
    work.write("002_add_email.up.sql", "SELECT 'edited';\n")
    work.commit("edit an applied migration")
    work.git("push", "--quiet", "origin", "feature")
    url = origin.as_uri()
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", url, "ci")
    ci = Repo(tmp_path / "ci")
    missing = ci.check()
    assert missing.code == 2 and "git fetch origin main" in missing.err
    ci.git("fetch", "--quiet", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    result = ci.check("--ref", "origin/main")
    assert result.code == 1, result.text
    assert "migrations/002_add_email.up.sql: modified since origin/main" in result.out


def test_a_linked_worktree_works(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.git("worktree", "add", "--quiet", "-b", "feature", str(tmp_path / "wt"))
    linked = Repo(tmp_path / "wt")
    add_new(linked)
    assert linked.check().code == 0
    linked.write("002_add_email.up.sql", "SELECT 'edited';\n")
    result = linked.check()
    assert result.code == 1
    assert "migrations/002_add_email.up.sql: modified" in result.out


def test_it_runs_from_a_subdirectory(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.write("001_create_users.up.sql", "SELECT 'edited';\n")
    result = repo.check("--config", "../config.yaml", cwd=repo.path / "migrations")
    assert result.code == 1
    assert "migrations/001_create_users.up.sql: modified" in result.out
    given = repo.check(
        "--config", "../config.yaml", "001_create_users.up.sql", cwd=repo.path / "migrations"
    )
    assert given.code == 1


def test_paths_with_spaces(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path / "my projects", folder="db files/core migrations")
    add_new(repo)
    assert repo.check(str(repo.file("003_create_orders.up.sql"))).code == 0
    repo.write("001_create_users.up.sql", "SELECT 'edited';\n")
    rel = "db files/core migrations/001_create_users.up.sql"
    result = repo.check(rel)
    assert result.code == 1
    assert f"{rel}: modified since origin/main" in result.out


def test_crlf_checkout_with_autocrlf_is_no_false_alarm(tmp_path: Path) -> None:
    origin, _ = origin_and_clone(tmp_path)
    git(tmp_path, "-c", "core.autocrlf=true", "clone", "--quiet", str(origin), "windows")
    repo = Repo(tmp_path / "windows")
    repo.git("config", "core.autocrlf", "true")
    assert repo.file("001_create_users.up.sql").read_bytes().endswith(b"\r\n")
    repo.git("add", "--renormalize", ".")
    assert repo.check().code == 0
    assert repo.check("--worktree").code == 0
    repo.write("002_add_email.up.sql", "ALTER TABLE users ADD COLUMN email text;\r\n-- x\r\n")
    assert repo.check().code == 1


def test_crlf_or_a_bom_staged_without_autocrlf_is_not_an_edit(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    up = APPLIED["001_create_users.up.sql"]
    repo.write("001_create_users.up.sql", "\ufeff" + up.replace("\n", "\r\n"))
    result = repo.check()
    assert result.code == 0, result.text


def test_given_paths_limit_edits_but_not_deletions(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    add_new(repo)
    repo.write("001_create_users.up.sql", "SELECT 'edited';\n")
    repo.git("rm", "--quiet", "migrations/002_add_email.down.sql")
    new = "migrations/003_create_orders.up.sql"
    reasons = [(v["path"], v["reason"]) for v in immutability(repo, new)]
    assert reasons == [("migrations/002_add_email.down.sql", "deleted")]
    everything = [str(v["reason"]) for v in immutability(repo)]
    assert sorted(everything) == ["deleted", "modified"]


def test_files_outside_the_migrations_folder_are_ignored(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    (repo.path / "notes.sql").write_text("-- not a migration\n")
    (repo.path / "README.md").write_text("changed\n")
    repo.commit("other files")
    assert repo.check("notes.sql", "README.md").code == 0


def test_file_rule_problems_fail_the_check_with_exit_1(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.write("003_create_orders.up.sql", NEW_UP)
    result = repo.check("migrations/003_create_orders.up.sql")
    assert result.code == 1
    assert "migrations/003_create_orders.up.sql: has no down file" in result.out
    assert "hint: write the SQL that undoes the up file" in result.out
    doc = json.loads(repo.check("--format", "json").out)
    assert [e["path"] for e in doc["errors"]] == ["migrations/003_create_orders.up.sql"]
    assert doc["immutability"] == []


def test_a_version_clash_is_seen_from_either_file(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    add_new(repo, version=2, name="add_phone")  # 002 is add_email at the ref
    result = repo.check("migrations/002_add_phone.up.sql", "migrations/002_add_phone.down.sql")
    assert result.code == 1
    assert "version 2 is used by two migrations: 002_add_email, 002_add_phone" in result.out


def test_untracked_files_are_not_part_of_the_commit(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.write("004_wip.up.sql", "SELECT 1;\n", stage=False)  # no down file yet
    assert repo.check().code == 0
    worktree = repo.check("--worktree")
    assert worktree.code == 1
    assert "004_wip.up.sql: has no down file" in worktree.out


def test_unrelated_broken_files_are_not_reported_for_given_paths(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.write("004_wip.up.sql", "SELECT 1;\n")  # staged without its down file
    add_new(repo)
    assert repo.check("migrations/003_create_orders.up.sql").code == 0
    assert repo.check().code == 1


def test_a_missing_migrations_folder_is_empty(tmp_path: Path) -> None:
    repo = seed(tmp_path / "solo", files={})
    assert repo.check().code == 0


def test_the_first_commit_of_a_repository_has_nothing_applied(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch", "main")
    repo = Repo(path)
    (path / "config.yaml").write_text("migrations: migrations\n")
    add_new(repo, version=1)
    result = repo.check()
    assert result.code == 0, result.text
    assert "(no commit yet)" in result.err


def test_lint_errors_in_a_new_file_fail_the_check(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)
    repo.write("003_create_orders.up.sql", "CREATE TABLE orders (id uuid PRIMARY KEY);\n")
    repo.write("003_create_orders.down.sql", NEW_DOWN)
    result = repo.check("--format", "json")
    assert result.code == 1, result.text
    [finding] = json.loads(result.out)["findings"]
    assert finding["path"] == "migrations/003_create_orders.up.sql"
    assert (finding["rule"], finding["severity"], finding["line"]) == ("IDEM001", "error", 1)
    text = repo.check()
    assert text.code == 1
    assert "migrations/003_create_orders.up.sql:1:14: IDEM001 " in text.out


def test_applied_files_are_linted_only_with_all(tmp_path: Path) -> None:
    _, repo = origin_and_clone(tmp_path)  # 001 creates a table without IF NOT EXISTS
    add_new(repo)
    assert repo.check().code == 0
    result = repo.check("--all", "--format", "json")
    assert result.code == 1
    paths = {f["path"] for f in json.loads(result.out)["findings"]}
    assert "migrations/001_create_users.up.sql" in paths
