"""Several databases in one config, each with its own migrations folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.helpers import pair, query, run_cli


def _project(root: Path) -> Path:
    for folder, files in {
        "migrations/core": pair(
            1,
            "users",
            "CREATE TABLE IF NOT EXISTS users (id int);\n",
            "DROP TABLE IF EXISTS users;\n",
        ),
        "migrations/iam": {
            **pair(
                1,
                "roles",
                "CREATE TABLE IF NOT EXISTS roles (id int);\n",
                "DROP TABLE IF EXISTS roles;\n",
            ),
            **pair(
                2,
                "grants",
                "CREATE TABLE IF NOT EXISTS grants (id int);\n",
                "DROP TABLE IF EXISTS grants;\n",
            ),
        },
    }.items():
        (root / folder).mkdir(parents=True)
        for name, text in files.items():
            (root / folder / name).write_text(text)
    config = {
        "targets": {
            "core": {"dsn": "${CORE_URL}", "migrations": "migrations/core"},
            "iam": {"dsn": "${IAM_URL}", "migrations": "migrations/iam"},
        },
        "default_target": "core",
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


@pytest.fixture
def two_targets(
    tmp_path: Path, db_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, str]:
    core, iam = db_factory(), db_factory()
    monkeypatch.setenv("CORE_URL", core)
    monkeypatch.setenv("IAM_URL", iam)
    return _project(tmp_path), core, iam


def test_default_target_and_target_flag(two_targets: tuple[Path, str, str]) -> None:
    project, core, iam = two_targets
    assert run_cli(project, "up").code == 0
    assert query(core, "SELECT to_regclass('public.users') IS NOT NULL") == [(True,)]
    assert query(iam, "SELECT to_regclass('public.sqlmig_history')") == [(None,)]
    assert run_cli(project, "up", "--target", "iam").code == 0
    assert query(iam, "SELECT count(*) FROM public.sqlmig_history") == [(2,)]


def test_all_targets_runs_each_target_in_order(two_targets: tuple[Path, str, str]) -> None:
    project, _, _ = two_targets
    result = run_cli(project, "up", "--all-targets", "--format", "json")
    assert result.code == 0, result.text
    docs = json.loads(result.out)
    assert [d["target"] for d in docs] == ["core", "iam"]
    assert [len(d["migrations"]) for d in docs] == [1, 2]
    status = json.loads(run_cli(project, "status", "--all-targets", "--format", "json").out)
    assert [[m["state"] for m in d["migrations"]] for d in status] == [
        ["applied"],
        ["applied", "applied"],
    ]


def test_unset_dsn_variable_names_the_key(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = run_cli(project, "status")
    assert result.code == 2
    assert "targets.core.dsn: environment variable CORE_URL is not set" in result.err


def test_unknown_target_lists_the_known_ones(two_targets: tuple[Path, str, str]) -> None:
    project, _, _ = two_targets
    result = run_cli(project, "status", "--target", "billing")
    assert result.code == 2
    assert "billing" in result.err and "core" in result.err and "iam" in result.err
