"""Turn a migration file's bytes into normalised text, and hash texts and statements.

The normalisation is exactly SPEC 3 and nothing more: drop one leading UTF-8 BOM, turn CRLF and
lone CR into LF. Whitespace, comments and trailing newlines are content (an edited comment is
an edit). The name ``ALGORITHM`` is stored with every checksum so that a future change to these
rules can be recognised instead of silently invalidating history.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from sqlmig.errors import MigrationFileError

ALGORITHM: Final = "sha256-v1"

_BOM: Final = "\ufeff"
_BOM_BYTES: Final = _BOM.encode("utf-8")


def decode(raw: bytes, path: Path) -> str:
    """Decode a file's bytes as UTF-8 and normalise line endings.

    Raises ``MigrationFileError("<path>: not valid UTF-8 at byte offset N")``, N being the offset
    of the first bad byte in ``raw`` (BOM included), so that ``cmp``/``xxd`` find it.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MigrationFileError(
            f"{path}: not valid UTF-8 at byte offset {exc.start}",
            hint="save the file as UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)",
        ) from None
    if text.startswith(_BOM):
        text = text[1:]
    # Two C-level passes; cheaper than a regex on a 50 MB file and a no-op on LF files.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def checksum(text: str) -> str:
    """Hex sha256 of the normalised text (see ``decode``) encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_checksum(raw: bytes, text: str) -> str:
    """``checksum(text)`` for ``text = decode(raw, ...)``, hashing ``raw`` itself when decoding
    normalised nothing (no BOM, no CR): then ``text`` encodes to exactly ``raw``, and a large
    file is not copied once more to be hashed."""
    if raw.startswith(_BOM_BYTES) or b"\r" in raw:
        return checksum(text)
    return hashlib.sha256(raw).hexdigest()


def statement_hash(sql: str) -> str:
    """Hex sha256 of one statement as the splitter cut it; compared when resuming a segment."""
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()
