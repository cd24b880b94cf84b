"""A folder read and up scripts checked by a forked child give the same scan and the same verdicts
as this process reading and checking them, and the child never outlives the block that started
it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from sqlmig import ahead, files
from sqlmig.errors import MigrationFileError
from sqlmig.files import Directives, Migration
from sqlmig.script import Script

# Files the executor refuses before anything runs, each for its own reason.
BROKEN = {
    7: "CREATE TABLE t7 (id int);\nCOMMIT;\n",  # explicit transaction control
    40: "CREATE TABLE t40 (note text DEFAULT 'unterminated);\n",  # does not split
    90: "BEGIN;\nCREATE TABLE t90 (id int);\n",
}


def write_folder(folder: Path, n: int) -> list[Migration]:
    folder.mkdir(exist_ok=True)
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


def forks(folder: Path) -> bool:
    return len(os.listdir(folder)) >= ahead.FORK_MIN_FILES


def refusal(folder: Path, versions: Sequence[int]) -> str | None:
    """The message ``require`` raises for ``versions`` (in that order), None when all can run."""
    before = children()
    with ahead.reading_ahead(folder, check_up=True) as checks:
        forked = children() - before
        try:
            by_version = {m.version: m for m in checks.migrations()}
            ups = [(v, by_version[v].up) for v in versions]
            checks.require([(v, f.checksum, Script.from_file(f, "up")) for v, f in ups])
        except MigrationFileError as exc:
            return exc.message
        finally:
            assert len(forked) == (1 if forks(folder) else 0)
    assert children() == before  # stopped and reaped: no zombie either
    return None


def in_process(migrations: Sequence[Migration], versions: Sequence[int]) -> str | None:
    by_version = {m.version: m for m in migrations}
    for v in versions:
        verdict = ahead.check(Script.from_file(by_version[v].up, "up"))
        if verdict.message is not None:
            return verdict.message
    return None


@pytest.mark.parametrize("n", [ahead.FORK_MIN_FILES // 2 - 1, ahead.FORK_MIN_FILES // 2 + 50])
@pytest.mark.parametrize(
    "versions",
    [[], [1, 2, 3], [8, 9], [7], [50, 40, 90], [90, 40, 7], list(range(41, 90)), "all"],
)
@pytest.mark.parametrize("sent", ["scan sent", "scan too large to send"])
def test_the_first_script_refused_is_the_same_with_or_without_a_child(
    tmp_path: Path, n: int, versions: list[int] | str, sent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sent != "scan sent":
        monkeypatch.setattr(ahead, "SCAN_MAX_CHARS", 1000)  # the child checks, this process reads
    migrations = write_folder(tmp_path / "m", n)
    wanted = [m.version for m in migrations] if isinstance(versions, str) else versions
    expected = in_process(migrations, wanted)
    assert refusal(tmp_path / "m", wanted) == expected
    if wanted and wanted[0] in BROKEN:
        assert expected is not None and f"{wanted[0]:03d}_m{wanted[0]}.up.sql:" in expected


def test_the_child_is_stopped_when_the_block_ends_early(tmp_path: Path) -> None:
    write_folder(tmp_path / "m", ahead.FORK_MIN_FILES * 2)
    before = children()
    with pytest.raises(RuntimeError), ahead.reading_ahead(tmp_path / "m", check_up=True):
        assert len(children() - before) == 1
        raise RuntimeError("the run failed before it asked for anything")
    assert children() == before


# Every kind of file the scan reads or reports, among enough files for a child to read them.
ODD_FILES = {
    "001_plain.up.sql": "CREATE TABLE a (id int);\n",
    "001_plain.down.sql": "DROP TABLE a;\n",
    "002_directives.up.sql": "-- sqlmig:no-transaction\n-- sqlmig:lock-timeout 10s\n"
    "-- sqlmig:statement-timeout 30min\n"
    "-- sqlmig:ignore-file LOCK001,IDEM001 reviewed: small table\n"
    "CREATE INDEX CONCURRENTLY i ON a (id);\n",
    "002_directives.down.sql": "-- sqlmig:irreversible the data is gone\n",
    "003_unicode.up.sql": "\ufeffCOMMENT ON TABLE a IS 'caf\u00e9 \u2603';\r\n",
    "003_unicode.down.sql": "COMMENT ON TABLE a IS NULL;\n",
    "004_no_down.up.sql": "SELECT 1;\n",
    "005_empty.up.sql": "",
    "005_empty.down.sql": "SELECT 1;\n",
    "006_Bad_Case.up.sql": "SELECT 1;\n",
    "notes.txt": "not a migration\n",
}


@pytest.mark.parametrize("check_up", [False, True])
def test_the_childs_scan_is_the_folders_scan(tmp_path: Path, check_up: bool) -> None:
    folder = tmp_path / "m"
    write_folder(folder, ahead.FORK_MIN_FILES // 2 + 100)
    for name in [n for n in os.listdir(folder) if n[:4] in {f"{v:03d}_" for v in range(1, 7)}]:
        (folder / name).unlink()
    for name, text in ODD_FILES.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    expected = files.scan(folder)
    assert {p.path.name for p in expected.problems} >= {"004_no_down.up.sql", "005_empty.up.sql"}
    before = children()
    with ahead.reading_ahead(folder, check_up=check_up) as reading:
        assert len(children() - before) == 1
        assert reading.scan() == expected
        with pytest.raises(MigrationFileError) as raised:
            reading.migrations()
        assert raised.value.message == files.problems_error(expected.problems).message
    assert children() == before


def test_a_verdict_holds_only_for_the_file_the_child_checked(tmp_path: Path) -> None:
    # the child found 007 broken; a file of another checksum (edited since) is checked here
    folder = tmp_path / "m"
    write_folder(folder, ahead.FORK_MIN_FILES)
    fixed = Script("007_m7.up.sql", "CREATE TABLE t7 (id int);\n", Directives(), "up")
    with ahead.reading_ahead(folder, check_up=True) as checks:
        checks.scan()
        checks.require([(7, "checksum of the edited file", fixed)])
    with ahead.reading_ahead(folder, check_up=True) as checks:
        seven = next(m for m in checks.migrations() if m.version == 7).up
        with pytest.raises(MigrationFileError, match="COMMIT in a migration"):
            checks.require([(7, seven.checksum, fixed)])  # the child's verdict on that file
