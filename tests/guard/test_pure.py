"""The guard's pure parts: git's raw diff, rename matching, scan scope, normalised text."""

from __future__ import annotations

from sqlmig.guard import Change, parse_raw, renamed_to, scan_filter, text_of

A, B, ZERO = "a" * 40, "b" * 40, "0" * 40


def test_parse_raw_reads_renames_and_paths_with_spaces_and_newlines() -> None:
    out = (
        f":100644 100644 {A} {B} M\0db files/001_a b.up.sql\0"
        f":100644 100644 {A} {A} R100\0m/002_x.up.sql\0m/003_x\n.up.sql\0"
        f":100644 000000 {A} {ZERO} D\0m/004_y.up.sql\0"
    ).encode()
    assert parse_raw(out) == [
        Change("M", A, B, "db files/001_a b.up.sql", "db files/001_a b.up.sql"),
        Change("R", A, A, "m/002_x.up.sql", "m/003_x\n.up.sql"),
        Change("D", A, ZERO, "m/004_y.up.sql", "m/004_y.up.sql"),
    ]
    assert parse_raw(b"") == []


def test_a_deleted_file_is_renamed_when_version_name_and_kind_reappear() -> None:
    added = {"m/001_users.down.sql", "other/0001_users.up.sql", "m/002_users.up.sql"}
    assert renamed_to("m/1_users.up.sql", added) == "other/0001_users.up.sql"
    assert renamed_to("m/001_people.up.sql", added) is None
    assert renamed_to("m/README.md", added) is None


def test_scan_filter_keeps_the_given_files_and_their_versions() -> None:
    given = frozenset({"m/003_b.up.sql", "m/README.md", "other/004_c.up.sql"})
    only = scan_filter("m", given)
    assert only is not None
    kept = [n for n in ("003_a.down.sql", "0003_b.up.sql", "004_c.up.sql", "README.md") if only(n)]
    assert kept == ["003_a.down.sql", "0003_b.up.sql", "README.md"]
    assert scan_filter("unrelated", given) is None
    top = scan_filter(".", frozenset({"001_a.up.sql"}))
    assert top is not None and top("001_a.down.sql")


def test_text_of_normalises_like_the_checksum_and_survives_bad_utf8() -> None:
    assert text_of(b"\xef\xbb\xbfSELECT 1;\r\n", "x") == "SELECT 1;\n"
    assert text_of(b"SELECT '\xff';\n", "x") == "SELECT '\ufffd';\n"
