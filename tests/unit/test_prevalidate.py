"""Up scripts checked by a forked child give the same verdicts as checks in this process, and the
child never outlives the block that started it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from sqlmig import files, prevalidate
from sqlmig.errors import MigrationFileError
from sqlmig.files import Migration
from sqlmig.script import Script

# Files the executor refuses before anything runs, each for its own reason.
BROKEN = {
    7: "CREATE TABLE t7 (id int);\nCOMMIT;\n",  # explicit transaction control
    40: "CREATE TABLE t40 (note text DEFAULT 'unterminated);\n",  # does not split
    90: "BEGIN;\nCREATE TABLE t90 (id int);\n",
}


def write_folder(folder: Path, n: int) -> list[Migration]:
    folder.mkdir()
    for v in range(1, n + 1):
        up = BROKEN.get(v, f"CREATE TABLE t{v} (id int);\nCREATE INDEX ON t{v} (id);\n")
        (folder / f"{v:03d}_m{v}.up.sql").write_text(up)
        (folder / f"{v:03d}_m{v}.down.sql").write_text(f"DROP TABLE t{v};\n")
    return files.load(folder)


def children() -> set[int]:
    """This process's child processes (Linux)."""
    found: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as f:
            found |= {int(pid) for pid in f.read().split()}
    return found


def refusal(migrations: Sequence[Migration], versions: Sequence[int]) -> str | None:
    """The message ``require`` raises for ``versions`` (in that order), None when all can run."""
    by_version = {m.version: m for m in migrations}
    scripts = [(v, Script.from_file(by_version[v].up, "up")) for v in versions]
    before = children()
    with prevalidate.prevalidating(migrations) as checks:
        forked = children() - before
        try:
            checks.require(scripts)
        except MigrationFileError as exc:
            return exc.message
        finally:
            assert len(forked) == (1 if len(migrations) >= prevalidate.FORK_MIN else 0)
    assert children() == before  # stopped and reaped: no zombie either
    return None


def in_process(migrations: Sequence[Migration], versions: Sequence[int]) -> str | None:
    by_version = {m.version: m for m in migrations}
    for v in versions:
        verdict = prevalidate.check(Script.from_file(by_version[v].up, "up"))
        if verdict.message is not None:
            return verdict.message
    return None


@pytest.mark.parametrize("n", [prevalidate.FORK_MIN - 1, prevalidate.FORK_MIN + 50])
@pytest.mark.parametrize(
    "versions",
    [[], [1, 2, 3], [8, 9], [7], [50, 40, 90], [90, 40, 7], list(range(41, 90)), "all"],
)
def test_the_first_script_refused_is_the_same_with_or_without_a_child(
    tmp_path: Path, n: int, versions: list[int] | str
) -> None:
    migrations = write_folder(tmp_path / "m", n)
    wanted = [m.version for m in migrations] if isinstance(versions, str) else versions
    expected = in_process(migrations, wanted)
    assert refusal(migrations, wanted) == expected
    if wanted and wanted[0] in BROKEN:
        assert expected is not None and f"{wanted[0]:03d}_m{wanted[0]}.up.sql:" in expected


def test_the_child_is_stopped_when_the_block_ends_early(tmp_path: Path) -> None:
    migrations = write_folder(tmp_path / "m", prevalidate.FORK_MIN + 400)
    before = children()
    with pytest.raises(RuntimeError), prevalidate.prevalidating(migrations):
        raise RuntimeError("the run failed before it asked for verdicts")
    assert children() == before
