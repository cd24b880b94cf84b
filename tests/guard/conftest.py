"""Every test here runs git, and sqlmig's git, without the machine's or the user's git config."""

from __future__ import annotations

import pytest

from tests.guard.gitrepo import GIT_ENV


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "SQLMIG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
