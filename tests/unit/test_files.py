"""Migration folders (SPEC 2): names, pairs, content rules, directives, and `sqlmig new`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sqlmig import files
from sqlmig.checksum import checksum
from sqlmig.errors import MigrationFileError
from sqlmig.files import (
    Directives,
    Kind,
    Suppression,
    format_version,
    has_statements,
    load,
    new_migration,
    next_version,
    parse_directives,
    read_sql_file,
    scan,
)
from sqlmig.sql.split import split_statements

UP = "CREATE TABLE t (id int);\n"
DOWN = "DROP TABLE t;\n"
NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def write(folder: Path, contents: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def pair(label: str, up: str = UP, down: str = DOWN) -> dict[str, str | bytes]:
    return {f"{label}.up.sql": up, f"{label}.down.sql": down}


def problems_of(folder: Path) -> list[tuple[str, str]]:
    return [(p.path.name, p.message) for p in scan(folder).problems]


# --- a valid folder ---------------------------------------------------------------------------


def test_migrations_are_sorted_numerically_and_keep_their_written_labels(tmp_path: Path) -> None:
    write(tmp_path, pair("10_c") | pair("2_b") | pair("001_a"))
    migrations = load(tmp_path)
    assert [(m.version, m.name, m.label) for m in migrations] == [
        (1, "a", "001_a"),
        (2, "b", "2_b"),
        (10, "c", "10_c"),
    ]


def test_a_migration_carries_text_checksum_and_directives_of_both_files(tmp_path: Path) -> None:
    down = "-- sqlmig:lock-timeout 2s\nDROP TABLE t;\n"
    write(tmp_path, pair("001_t", down=down))
    (migration,) = load(tmp_path)
    assert migration.up.text == UP
    assert migration.up.checksum == checksum(UP)
    assert migration.down is not None
    assert migration.down.directives == Directives(lock_timeout_ms=2000)


def test_unrelated_files_hidden_files_and_subdirectories_are_ignored(tmp_path: Path) -> None:
    extra: dict[str, str | bytes] = {
        "README.md": "# docs",
        ".gitkeep": "",
        "notes.txt": "x",
        ".001_swap.up.sql": "",
        ".hidden.sql": "",
    }
    write(tmp_path, pair("001_a") | extra)
    write(tmp_path / "archive", {"001_old.up.sql": UP, "junk.sql": ""})
    write(tmp_path / "002_dir.up.sql", {})
    assert scan(tmp_path).problems == ()
    assert [m.label for m in load(tmp_path)] == ["001_a"]


def test_an_empty_folder_has_no_migrations(tmp_path: Path) -> None:
    assert load(tmp_path) == []


def test_a_missing_folder_is_a_problem_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "nope"
    with pytest.raises(MigrationFileError, match=f"^{folder}: cannot read the migrations folder"):
        load(folder)


# --- names and pairs --------------------------------------------------------------------------

BAD_NAMES = [
    ("001_Add.up.sql", "is not lower case; rename it 001_add.up.sql"),
    ("001_add.UP.sql", "is not lower case; rename it 001_add.up.sql"),
    ("001_ADD.DOWN.SQL", "is not lower case; rename it 001_add.down.sql"),
    ("001_add.sql", "has no .up or .down before .sql"),
    ("schema.sql", "has no .up or .down before .sql"),
    ("1-add.up.sql", "is not named NNN_name.up.sql or NNN_name.down.sql"),
    ("001_add users.up.sql", "is not named NNN_name.up.sql or NNN_name.down.sql"),
    ("abc_add.up.sql", "is not named NNN_name.up.sql or NNN_name.down.sql"),
    ("001_add-users.up.sql", "is not named NNN_name.up.sql or NNN_name.down.sql"),
    ("001_add.up.sql.bak", "is not named NNN_name.up.sql or NNN_name.down.sql"),
    ("001_notes.txt", "is not named NNN_name.up.sql or NNN_name.down.sql"),
    ("001_.up.sql", "is not named NNN_name.up.sql or NNN_name.down.sql"),
    ("001_add.up.sql\n", "is not named NNN_name.up.sql or NNN_name.down.sql"),
]


@pytest.mark.parametrize(("name", "message"), BAD_NAMES, ids=[b[0] for b in BAD_NAMES])
def test_a_file_that_looks_like_a_migration_but_is_not_is_named(
    tmp_path: Path, name: str, message: str
) -> None:
    write(tmp_path, pair("002_ok") | {name: UP})
    assert problems_of(tmp_path) == [(name, f"looks like a migration but {message}")]


PAIR_PROBLEMS: list[tuple[str, dict[str, str | bytes], list[tuple[str, str]]]] = [
    (
        "missing-down",
        {"001_add.up.sql": UP},
        [("001_add.up.sql", "has no down file; create 001_add.down.sql")],
    ),
    (
        "down-without-up",
        {"001_add.down.sql": DOWN},
        [("001_add.down.sql", "has no up file 001_add.up.sql")],
    ),
    (
        "same-version-two-names",
        pair("001_a") | pair("001_b"),
        [("001_b.up.sql", "version 1 is used by two migrations: 001_a, 001_b")],
    ),
    (
        "same-version-different-padding",
        pair("1_a") | pair("001_a"),
        [("1_a.up.sql", "version 1 is used by two migrations: 001_a, 1_a")],
    ),
    (
        "padding-mixed-within-a-pair",
        {"1_a.up.sql": UP, "001_a.down.sql": DOWN},
        [("1_a.up.sql", "version 1 is used by two migrations: 001_a, 1_a")],
    ),
    (
        "three-names",
        pair("01_a") | pair("001_b") | {"1_c.up.sql": UP},
        [("1_c.up.sql", "version 1 is used by three migrations: 001_b, 01_a, 1_c")],
    ),
    (
        "version-zero",
        pair("000_init"),
        [
            ("000_init.down.sql", "version 000 is out of range (1 to 9223372036854775807)"),
            ("000_init.up.sql", "version 000 is out of range (1 to 9223372036854775807)"),
        ],
    ),
    (
        "version-beyond-bigint",
        {"9223372036854775808_x.up.sql": UP},
        [
            (
                "9223372036854775808_x.up.sql",
                "version 9223372036854775808 is out of range (1 to 9223372036854775807)",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("folder", "expected"), [p[1:] for p in PAIR_PROBLEMS], ids=[p[0] for p in PAIR_PROBLEMS]
)
def test_pairing_problems_name_the_file(
    tmp_path: Path, folder: dict[str, str | bytes], expected: list[tuple[str, str]]
) -> None:
    write(tmp_path, folder)
    assert problems_of(tmp_path) == expected


def test_missing_down_hint_mentions_irreversible(tmp_path: Path) -> None:
    write(tmp_path, {"001_add.up.sql": UP})
    (problem,) = scan(tmp_path).problems
    assert "sqlmig:irreversible" in problem.hint


def test_scan_collects_every_problem_and_keeps_the_good_migrations(tmp_path: Path) -> None:
    write(tmp_path, pair("001_ok") | {"002_Bad.up.sql": UP, "003_lonely.up.sql": UP})
    result = scan(tmp_path)
    assert [m.label for m in result.migrations] == ["001_ok"]
    assert [p.path.name for p in result.problems] == ["002_Bad.up.sql", "003_lonely.up.sql"]


def test_load_raises_the_first_problem_and_counts_the_rest(tmp_path: Path) -> None:
    write(tmp_path, {"001_a.up.sql": UP, "002_b.up.sql": UP, "003_c.up.sql": UP})
    with pytest.raises(MigrationFileError) as caught:
        load(tmp_path)
    assert caught.value.message == (
        f"{tmp_path / '001_a.up.sql'}: has no down file; create 001_a.down.sql"
    )
    assert "2 more problems: 'sqlmig check' lists all" in caught.value.hint


# --- content ----------------------------------------------------------------------------------

CONTENT_PROBLEMS = [
    ("empty-up", "", DOWN, "001_a.up.sql", "is empty"),
    ("blank-up", " \n\n\t\n", DOWN, "001_a.up.sql", "is empty"),
    (
        "comment-only-up",
        "-- todo\n/* later */\n",
        DOWN,
        "001_a.up.sql",
        "contains no SQL statement",
    ),
    ("semicolons-only-up", "-- x\n;\n;\n", DOWN, "001_a.up.sql", "contains no SQL statement"),
    ("empty-down", UP, "", "001_a.down.sql", "is empty"),
    ("comment-only-down", UP, "-- drop it\n", "001_a.down.sql", "contains no SQL statement"),
]


@pytest.mark.parametrize(
    ("up", "down", "name", "message"),
    [c[1:] for c in CONTENT_PROBLEMS],
    ids=[c[0] for c in CONTENT_PROBLEMS],
)
def test_a_file_without_sql_is_a_problem(
    tmp_path: Path, up: str, down: str, name: str, message: str
) -> None:
    write(tmp_path, pair("001_a", up, down))
    ((problem_name, problem_message),) = problems_of(tmp_path)
    assert problem_name == name
    assert problem_message.startswith(message)


def test_an_irreversible_down_needs_no_sql(tmp_path: Path) -> None:
    write(tmp_path, pair("001_a", down="-- sqlmig:irreversible data is gone\n"))
    (migration,) = load(tmp_path)
    assert migration.down is not None
    assert migration.down.directives.irreversible == "data is gone"


def test_non_utf8_file_is_a_problem_with_the_byte_offset(tmp_path: Path) -> None:
    write(tmp_path, pair("001_a") | {"001_a.up.sql": b"SELECT '\xe9';\n"})
    assert problems_of(tmp_path) == [("001_a.up.sql", "not valid UTF-8 at byte offset 8")]


def test_a_directive_error_is_a_problem_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, pair("001_a", up="-- x\n-- sqlmig:no-transactoin\nSELECT 1;\n"))
    (problem,) = scan(tmp_path).problems
    assert (problem.path.name, problem.line) == ("001_a.up.sql", 2)
    assert str(problem) == (
        f"{tmp_path / '001_a.up.sql'}:2: "
        "unknown directive sqlmig:no-transactoin; did you mean sqlmig:no-transaction?"
    )


HAS_STATEMENTS = [
    ("", False),
    (" \n\t\n", False),
    ("-- only a comment", False),
    ("-- a\n-- b\n\n", False),
    ("/* block */", False),
    ("/* outer /* nested */ still comment */\n", False),
    ("/* unterminated", False),
    (";\n ; -- empty statements\n", False),
    ("SELECT 1", True),
    ("-- c\nSELECT 1;", True),
    ("/* c */ SELECT 1;", True),
    ("/* a /* b */ c */ x", True),
    ("/* a /* b */ c */ */ x", True),  # '*/' after the comment closed is a token
    ("\u00a0SELECT 1", True),  # no-break space is not PostgreSQL whitespace
    (") broken", True),
]


@pytest.mark.parametrize(("text", "expected"), HAS_STATEMENTS)
def test_has_statements_skips_only_whitespace_comments_and_semicolons(
    text: str, expected: bool
) -> None:
    assert has_statements(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"), [case for case in HAS_STATEMENTS if "unterminated" not in case[0]]
)
def test_has_statements_agrees_with_the_splitter(text: str, expected: bool) -> None:
    assert bool(split_statements(text)) is expected


# --- symlinks ---------------------------------------------------------------------------------


def test_a_symlink_inside_the_folder_is_followed(tmp_path: Path) -> None:
    write(tmp_path, pair("001_a") | {"shared.txt": UP})
    (tmp_path / "002_b.up.sql").symlink_to("shared.txt")
    (tmp_path / "002_b.down.sql").symlink_to(tmp_path / "001_a.down.sql")
    assert [m.up.text for m in load(tmp_path)] == [UP, UP]


def test_a_symlink_to_a_file_outside_the_folder_is_a_problem(tmp_path: Path) -> None:
    folder = write(tmp_path / "migrations", pair("001_a"))
    outside = write(tmp_path / "elsewhere", {"evil.sql": "DROP TABLE users;"})
    (folder / "002_b.up.sql").symlink_to(outside / "evil.sql")
    (folder / "002_b.down.sql").symlink_to("../elsewhere/evil.sql")
    assert problems_of(folder) == [
        (
            "002_b.down.sql",
            f"is a symlink to {outside / 'evil.sql'}, outside the migrations folder",
        ),
        ("002_b.up.sql", f"is a symlink to {outside / 'evil.sql'}, outside the migrations folder"),
    ]


def test_a_symlinked_migrations_folder_is_fine(tmp_path: Path) -> None:
    real = write(tmp_path / "real", pair("001_a"))
    (tmp_path / "link").symlink_to(real)
    (real / "002_b.up.sql").symlink_to(real / "001_a.up.sql")
    (real / "002_b.down.sql").symlink_to("001_a.down.sql")
    assert len(load(tmp_path / "link")) == 2


def test_a_symlink_loop_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, {"001_a.down.sql": DOWN})
    (tmp_path / "001_a.up.sql").symlink_to("001_a.up.sql")
    assert problems_of(tmp_path) == [("001_a.up.sql", "is a symlink loop")]


def test_a_broken_symlink_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, pair("001_a"))
    (tmp_path / "001_a.up.sql").unlink()
    (tmp_path / "001_a.up.sql").symlink_to("gone.sql")
    assert problems_of(tmp_path) == [("001_a.up.sql", "is a broken symlink")]


def test_a_fifo_named_like_a_migration_is_not_read(tmp_path: Path) -> None:
    write(tmp_path, {"001_a.down.sql": DOWN})
    os.mkfifo(tmp_path / "001_a.up.sql")
    assert problems_of(tmp_path) == [("001_a.up.sql", "is not a regular file")]


# --- directives -------------------------------------------------------------------------------

PATH = Path("m/001_a.up.sql")

DIRECTIVES: list[tuple[str, str, Kind, Directives]] = [
    ("none", "CREATE TABLE t (id int);\n", "up", Directives()),
    (
        "no-transaction",
        "-- sqlmig:no-transaction\nVACUUM t;",
        "up",
        Directives(no_transaction=True),
    ),
    ("no-space", "--sqlmig:no-transaction\nVACUUM t;", "up", Directives(no_transaction=True)),
    ("upper-prefix", "-- SQLMIG:no-transaction\nVACUUM t;", "up", Directives(no_transaction=True)),
    (
        "lock-timeout",
        "-- sqlmig:lock-timeout 10s\nSELECT 1;",
        "up",
        Directives(lock_timeout_ms=10_000),
    ),
    (
        "statement-timeout",
        "-- sqlmig:statement-timeout 30min\nSELECT 1;",
        "up",
        Directives(statement_timeout_ms=1_800_000),
    ),
    ("ms", "-- sqlmig:lock-timeout 500ms\nSELECT 1;", "up", Directives(lock_timeout_ms=500)),
    ("bare-ms", "-- sqlmig:lock-timeout 250\nSELECT 1;", "up", Directives(lock_timeout_ms=250)),
    ("zero-disables", "-- sqlmig:lock-timeout 0\nSELECT 1;", "up", Directives(lock_timeout_ms=0)),
    (
        "hours",
        "-- sqlmig:statement-timeout 1h\nSELECT 1;",
        "up",
        Directives(statement_timeout_ms=3_600_000),
    ),
    (
        "days",
        "-- sqlmig:statement-timeout 1d\nSELECT 1;",
        "up",
        Directives(statement_timeout_ms=86_400_000),
    ),
    (
        "irreversible",
        "-- sqlmig:irreversible the data was deleted\n",
        "down",
        Directives(irreversible="the data was deleted"),
    ),
    (
        "interleaved-blank-lines-and-comments",
        "-- Adds an index.\n\n/* why:\n   hot path */\n-- sqlmig:no-transaction\n\n"
        "   -- sqlmig:lock-timeout 1s   \nCREATE INDEX CONCURRENTLY i ON t (a);\n",
        "up",
        Directives(no_transaction=True, lock_timeout_ms=1000),
    ),
    (
        "ignore-file",
        "-- head\n-- sqlmig:ignore-file LOCK001,LOCK002 table is empty in every environment\n"
        "-- sqlmig:ignore-file DEST007 approved by the DBA\nALTER TABLE t ADD c int;\n",
        "up",
        Directives(
            ignore_file=(
                Suppression(("LOCK001", "LOCK002"), "table is empty in every environment", 2),
                Suppression(("DEST007",), "approved by the DBA", 3),
            )
        ),
    ),
    (
        "ignore-before-the-first-statement-is-left-to-the-linter",
        "-- sqlmig:ignore LOCK001 small table\nALTER TABLE t ADD c int;\n",
        "up",
        Directives(),
    ),
    (
        "ignore-later-in-the-file",
        "SELECT 1;\n  -- sqlmig:ignore LOCK001 small table\nALTER TABLE t ADD c int;\n",
        "up",
        Directives(),
    ),
    (
        "directive-inside-a-block-comment-is-not-a-directive",
        "/*\n-- sqlmig:no-transaction\n*/\nSELECT 1;\n",
        "up",
        Directives(),
    ),
    (
        "directive-text-inside-a-later-string",
        "SELECT '-- sqlmig:bogus', 1;\nSELECT 2; -- sqlmig:no-transaction\n",
        "up",
        Directives(),
    ),
    (
        "mention-in-prose-is-not-a-directive",
        "-- we could use sqlmig:no-transaction here\nSELECT 1;\n",
        "up",
        Directives(),
    ),
    (
        "no-transaction-in-a-down-file",
        "-- sqlmig:no-transaction\nDROP INDEX CONCURRENTLY i;\n",
        "down",
        Directives(no_transaction=True),
    ),
]


@pytest.mark.parametrize(
    ("text", "kind", "expected"), [d[1:] for d in DIRECTIVES], ids=[d[0] for d in DIRECTIVES]
)
def test_directives_parse(text: str, kind: Kind, expected: Directives) -> None:
    assert parse_directives(text, PATH, kind) == expected


DIRECTIVE_ERRORS: list[tuple[str, str, Kind, str]] = [
    (
        "typo-suggests-the-right-one",
        "-- sqlmig:no-transactoin\nSELECT 1;",
        "up",
        "1: unknown directive sqlmig:no-transactoin; did you mean sqlmig:no-transaction?",
    ),
    (
        "lock-timeout-typo",
        "\n\n-- sqlmig:lock-timout 5s\nSELECT 1;",
        "up",
        "3: unknown directive sqlmig:lock-timout; did you mean sqlmig:lock-timeout?",
    ),
    (
        "irreversable",
        "-- sqlmig:irreversable gone\n",
        "down",
        "1: unknown directive sqlmig:irreversable; did you mean sqlmig:irreversible?",
    ),
    (
        "no-suggestion",
        "-- sqlmig:frobnicate\nSELECT 1;",
        "up",
        "1: unknown directive sqlmig:frobnicate",
    ),
    ("empty-name", "-- sqlmig:\nSELECT 1;", "up", "1: unknown directive sqlmig:"),
    (
        "unknown-after-the-first-statement",
        "SELECT 1;\n\n   -- sqlmig:ignor LOCK001 reason\nSELECT 2;",
        "up",
        "3: unknown directive sqlmig:ignor; did you mean sqlmig:ignore?",
    ),
    (
        "top-only-after-the-first-statement",
        "-- c\nSELECT 1;\n-- sqlmig:no-transaction\n",
        "up",
        "3: sqlmig:no-transaction must come before the first statement (line 2)",
    ),
    (
        "ignore-file-after-the-first-statement",
        "SELECT 1;\n-- sqlmig:ignore-file LOCK001 reason\n",
        "up",
        "2: sqlmig:ignore-file must come before the first statement (line 1)",
    ),
    (
        "irreversible-in-an-up-file",
        "-- sqlmig:irreversible nope\nSELECT 1;",
        "up",
        "1: sqlmig:irreversible belongs in the down file, not the up file",
    ),
    (
        "irreversible-without-reason",
        "-- sqlmig:irreversible   \n",
        "down",
        "1: sqlmig:irreversible needs a reason",
    ),
    (
        "no-transaction-with-argument",
        "-- sqlmig:no-transaction yes\nVACUUM;",
        "up",
        "1: sqlmig:no-transaction takes no argument, got 'yes'",
    ),
    (
        "timeout-without-value",
        "-- sqlmig:lock-timeout\nSELECT 1;",
        "up",
        "1: sqlmig:lock-timeout '' is not a duration",
    ),
    (
        "timeout-unknown-unit",
        "-- sqlmig:lock-timeout 10sec\nSELECT 1;",
        "up",
        "1: sqlmig:lock-timeout '10sec' has unknown unit 'sec'",
    ),
    (
        "timeout-fraction",
        "-- sqlmig:statement-timeout 1.5s\nSELECT 1;",
        "up",
        "1: sqlmig:statement-timeout '1.5s' is not a duration",
    ),
    (
        "timeout-negative",
        "-- sqlmig:lock-timeout -1s\nSELECT 1;",
        "up",
        "1: sqlmig:lock-timeout '-1s' is not a duration",
    ),
    (
        "timeout-too-long",
        "-- sqlmig:lock-timeout 30d\nSELECT 1;",
        "up",
        "1: sqlmig:lock-timeout 30d is too long",
    ),
    (
        "repeated",
        "-- sqlmig:lock-timeout 1s\n-- sqlmig:lock-timeout 2s\nSELECT 1;",
        "up",
        "2: sqlmig:lock-timeout repeats line 1",
    ),
    (
        "ignore-file-without-reason",
        "-- sqlmig:ignore-file LOCK001\nSELECT 1;",
        "up",
        "1: sqlmig:ignore-file needs a reason after the rule IDs",
    ),
    (
        "ignore-file-lower-case-rule",
        "-- sqlmig:ignore-file lock001 reason\nSELECT 1;",
        "up",
        "1: sqlmig:ignore-file: 'lock001' is not a rule ID like LOCK001",
    ),
    (
        "ignore-file-space-in-rule-list",
        "-- sqlmig:ignore-file LOCK001, LOCK002 reason\nSELECT 1;",
        "up",
        "1: sqlmig:ignore-file: '' is not a rule ID like LOCK001",
    ),
    (
        "ignore-at-the-top-without-reason",
        "-- sqlmig:ignore LOCK001\nSELECT 1;",
        "up",
        "1: sqlmig:ignore needs a reason after the rule IDs",
    ),
]


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [d[1:] for d in DIRECTIVE_ERRORS],
    ids=[d[0] for d in DIRECTIVE_ERRORS],
)
def test_directive_errors_name_file_and_line(text: str, kind: Kind, message: str) -> None:
    with pytest.raises(MigrationFileError) as caught:
        parse_directives(text, PATH, kind)
    assert caught.value.message.startswith(f"{PATH}:{message}")


def test_directives_survive_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "001_a.up.sql"
    path.write_bytes(
        b"\xef\xbb\xbf-- sqlmig:no-transaction\r\n-- sqlmig:lock-timeout 3s\r\nVACUUM;\r\n"
    )
    sql = read_sql_file(path, "up")
    assert sql.directives == Directives(no_transaction=True, lock_timeout_ms=3000)
    assert sql.text == "-- sqlmig:no-transaction\n-- sqlmig:lock-timeout 3s\nVACUUM;\n"


# --- sqlmig new -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "versioning", "expected"),
    [
        (1, "sequence", "001"),
        (42, "sequence", "042"),
        (999, "sequence", "999"),
        (1000, "sequence", "1000"),
        (20240506070809, "timestamp", "20240506070809"),
        (5, "timestamp", "00000000000005"),
    ],
)
def test_format_version_pads(version: int, versioning: files.Versioning, expected: str) -> None:
    assert format_version(version, versioning) == expected


@pytest.mark.parametrize(
    ("versions", "versioning", "expected"),
    [
        ([], "sequence", 1),
        ([1, 2, 9], "sequence", 10),
        ([], "timestamp", 20240506070809),
        ([20240506070809], "timestamp", 20240506070810),
        ([20990101000000], "timestamp", 20990101000001),
        ([3], "timestamp", 20240506070809),
    ],
)
def test_next_version(versions: list[int], versioning: files.Versioning, expected: int) -> None:
    assert next_version(versions, versioning, NOW) == expected


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_new_creates_the_next_sequence_pair(tmp_path: Path) -> None:
    folder = tmp_path / "migrations" / "core"
    up, down = new_migration(folder, "add_users", "sequence")
    assert (up.name, down.name) == ("001_add_users.up.sql", "001_add_users.down.sql")
    new_migration(folder, "add_email", "sequence")
    assert names_in(folder) == [
        "001_add_users.down.sql",
        "001_add_users.up.sql",
        "002_add_email.down.sql",
        "002_add_email.up.sql",
    ]


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ("009_x.up.sql", "010_next.up.sql"),
        ("999_x.up.sql", "1000_next.up.sql"),
        ("0042_x.up.sql", "0043_next.up.sql"),
        ("7_x.up.sql", "008_next.up.sql"),
        ("005_Bad.up.sql", "006_next.up.sql"),  # a broken name still holds its version
        ("005_x.down.sql", "006_next.up.sql"),
    ],
)
def test_new_continues_after_the_highest_version_and_keeps_padding(
    tmp_path: Path, existing: str, expected: str
) -> None:
    write(tmp_path, {existing: UP})
    up, _ = new_migration(tmp_path, "next", "sequence")
    assert up.name == expected


def test_new_uses_utc_timestamps(tmp_path: Path) -> None:
    up, down = new_migration(tmp_path, "add_users", "timestamp", now=NOW)
    assert (up.name, down.name) == (
        "20240506070809_add_users.up.sql",
        "20240506070809_add_users.down.sql",
    )
    up2, _ = new_migration(tmp_path, "add_email", "timestamp", now=NOW)
    assert up2.name == "20240506070810_add_email.up.sql"


@pytest.mark.parametrize(
    "name", ["Add Users", "../x", "a-b", "", "add.users", "café", "x/y", "a\n"]
)
def test_new_refuses_bad_names_and_creates_nothing(tmp_path: Path, name: str) -> None:
    with pytest.raises(MigrationFileError, match=r"^migration name "):
        new_migration(tmp_path / "m", name, "sequence")
    assert not (tmp_path / "m").exists()


def test_new_suggests_a_valid_name(tmp_path: Path) -> None:
    with pytest.raises(MigrationFileError) as caught:
        new_migration(tmp_path, "Add Users", "sequence")
    assert caught.value.hint == "for example: sqlmig new add_users"


def test_new_refuses_a_name_already_used(tmp_path: Path) -> None:
    write(tmp_path, pair("001_add_users"))
    with pytest.raises(MigrationFileError, match="a migration named add_users already exists"):
        new_migration(tmp_path, "add_users", "sequence")


def test_new_never_overwrites_an_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"001_add.down.sql": "keep me"})
    # As if another `sqlmig new` created the file after the folder was listed.
    monkeypatch.setattr(files, "_existing_labels", lambda folder: {})
    with pytest.raises(MigrationFileError, match=r"001_add\.down\.sql: already exists"):
        new_migration(tmp_path, "add", "sequence")
    assert names_in(tmp_path) == ["001_add.down.sql"]
    assert (tmp_path / "001_add.down.sql").read_text() == "keep me"


def test_new_into_a_path_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "migrations").write_text("")
    with pytest.raises(MigrationFileError, match="cannot use as the migrations folder"):
        new_migration(tmp_path / "migrations", "add", "sequence")


def test_the_untouched_scaffold_is_reported_until_sql_is_written(tmp_path: Path) -> None:
    up, down = new_migration(tmp_path, "add_users", "sequence")
    assert problems_of(tmp_path) == [
        (down.name, "contains no SQL statement, only comments"),
        (up.name, "contains no SQL statement, only comments"),
    ]
    up.write_text(UP)
    down.write_text(DOWN)
    assert scan(tmp_path).problems == ()


def test_new_copies_the_template_and_its_down_sibling(tmp_path: Path) -> None:
    templates = write(
        tmp_path / "tpl",
        {"table.up.sql": "CREATE TABLE x ();\r\n", "table.down.sql": "DROP TABLE x;\n"},
    )
    up, down = new_migration(
        tmp_path / "m", "add_x", "sequence", template=templates / "table.up.sql"
    )
    assert up.read_bytes() == b"CREATE TABLE x ();\n"
    assert down.read_text() == "DROP TABLE x;\n"


def test_a_template_without_down_sibling_gets_the_default_down(tmp_path: Path) -> None:
    template = write(tmp_path / "tpl", {"t.sql": "SELECT 1;\n"}) / "t.sql"
    up, down = new_migration(tmp_path / "m", "add_x", "sequence", template=template)
    assert up.read_text() == "SELECT 1;\n"
    assert "sqlmig:irreversible" in down.read_text()


def test_a_missing_template_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(MigrationFileError, match="cannot read template"):
        new_migration(tmp_path / "m", "add_x", "sequence", template=tmp_path / "nope.up.sql")
    assert not (tmp_path / "m").exists()
