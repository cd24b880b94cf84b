"""One file to lint, as read from disk (or built in memory), with its up/down partner and the
up files of earlier versions in its folder.

Kept apart from the statement model so that a run whose results all come from the cache never
imports the lexer.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmig.files import Kind, SqlFile

if TYPE_CHECKING:
    from sqlmig.lint.context import FileContext


class Folder:
    """The up files of one migrations folder by version, shared by every file linted from it.

    ``contexts`` keeps the files already modelled, so that each is built once per run however
    many later files ask for it. ``digest_before(v)`` hashes the checksums of the files before
    version ``v`` (cumulative, computed once): it is part of the cache key.
    """

    def __init__(self, ups: Sequence[tuple[int, SqlFile]]) -> None:
        ordered = sorted(ups, key=lambda entry: entry[0])
        self.versions = [version for version, _ in ordered]
        self.files = [file for _, file in ordered]
        self.contexts: dict[Path, FileContext] = {}
        digest = hashlib.sha256()
        self._digests = [digest.hexdigest()]
        for file in self.files:
            digest.update(file.checksum.encode())
            self._digests.append(digest.hexdigest())

    def before(self, version: int) -> list[SqlFile]:
        return self.files[: bisect_left(self.versions, version)]

    def digest_before(self, version: int) -> str:
        return self._digests[bisect_left(self.versions, version)]


@dataclass(frozen=True, slots=True)
class Source:
    """One file to lint. ``partner_path`` is the sibling up/down file by name (None when the
    file is not named ``NNN_name.up|down.sql``); ``partner`` is that file when it could be read.
    ``version`` and ``folder`` (migration-named files only) give the earlier up files.
    """

    file: SqlFile
    kind: Kind
    display: str
    partner_path: Path | None = None
    partner_exists: bool = False
    partner: SqlFile | None = None
    version: int | None = None
    folder: Folder | None = None

    def earlier_digest(self) -> str:
        """What the cache key needs of the earlier files ('-' when there are none to know)."""
        if self.folder is None or self.version is None:
            return "-"
        return self.folder.digest_before(self.version)
