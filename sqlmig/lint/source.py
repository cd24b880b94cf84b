"""One file to lint, as read from disk (or built in memory), with its up/down partner.

Kept apart from the statement model so that a run whose results all come from the cache never
imports the lexer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmig.files import Kind, SqlFile


@dataclass(frozen=True, slots=True)
class Source:
    """One file to lint. ``partner_path`` is the sibling up/down file by name (None when the
    file is not named ``NNN_name.up|down.sql``); ``partner`` is that file when it could be read.
    """

    file: SqlFile
    kind: Kind
    display: str
    partner_path: Path | None = None
    partner_exists: bool = False
    partner: SqlFile | None = None
