"""Checksums: SPEC 3 normalisation (BOM, CRLF, CR) and nothing else; UTF-8 errors with offsets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sqlmig.checksum import ALGORITHM, checksum, decode, statement_hash
from sqlmig.errors import MigrationFileError

LF_FILE = b"CREATE TABLE t (id int);\n-- done\n"
PATH = Path("migrations/001_t.up.sql")


def test_algorithm_name_is_stored_version_one() -> None:
    assert ALGORITHM == "sha256-v1"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xef\xbb\xbf" + LF_FILE, id="bom"),
        pytest.param(LF_FILE.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(LF_FILE.replace(b"\n", b"\r"), id="lone-cr"),
        pytest.param(b"\xef\xbb\xbf" + LF_FILE.replace(b"\n", b"\r\n"), id="bom-and-crlf"),
    ],
)
def test_bom_and_line_endings_do_not_change_the_checksum(raw: bytes) -> None:
    assert checksum(decode(raw, PATH)) == checksum(decode(LF_FILE, PATH))


@pytest.mark.parametrize(
    "edited",
    [
        pytest.param(LF_FILE.replace(b"done", b"Done"), id="comment-edit"),
        pytest.param(LF_FILE + b"\n", id="extra-trailing-newline"),
        pytest.param(LF_FILE.replace(b"int);", b"int); "), id="trailing-space"),
        pytest.param(LF_FILE.replace(b"\n", b"\n\n", 1), id="blank-line"),
        pytest.param(b"\xef\xbb\xbf\xef\xbb\xbf" + LF_FILE, id="second-bom-is-content"),
    ],
)
def test_anything_else_is_an_edit(edited: bytes) -> None:
    assert checksum(decode(edited, PATH)) != checksum(decode(LF_FILE, PATH))


def test_checksum_is_hex_sha256_of_the_normalised_utf8_text() -> None:
    text = decode("é\r\n".encode(), PATH)
    assert text == "é\n"
    assert checksum(text) == hashlib.sha256("é\n".encode()).hexdigest()


@pytest.mark.parametrize(
    ("raw", "offset"),
    [
        pytest.param(b"SELECT 1;\xff\n", 9, id="invalid-byte"),
        pytest.param(b"\xef\xbb\xbfab\xc3(", 5, id="offset-counts-the-bom"),
        pytest.param(b"-- caf\xe9\n", 6, id="latin1-e-acute"),
        pytest.param(b"abc\xe2\x82", 3, id="truncated-sequence-at-end"),
        pytest.param(b"\xc0\xaf", 0, id="overlong-encoding"),
        pytest.param(b"ok\r\n\xed\xa0\x80", 4, id="surrogate-after-crlf"),
    ],
)
def test_non_utf8_names_the_file_and_the_first_bad_byte(raw: bytes, offset: int) -> None:
    with pytest.raises(MigrationFileError) as caught:
        decode(raw, PATH)
    assert caught.value.message == f"{PATH}: not valid UTF-8 at byte offset {offset}"
    assert "UTF-8" in caught.value.hint


def test_statement_hash_depends_only_on_the_statement_text() -> None:
    assert statement_hash("CREATE INDEX i ON t (a)") == statement_hash("CREATE INDEX i ON t (a)")
    assert statement_hash("CREATE INDEX i ON t (a)") != statement_hash("CREATE INDEX i ON t (b)")
    assert len(statement_hash("")) == 64
