"""Plain values read from the history tables; no database code, so pure modules may use them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from sqlmig.files import Migration

Status = Literal["applied", "partial", "failed"]
Direction = Literal["up", "down"]
Event = Literal["up", "down", "repair", "baseline", "force", "failure", "resume"]


class HistoryRow(NamedTuple):
    version: int
    name: str
    checksum_up: str
    checksum_down: str | None
    checksum_algorithm: str
    has_down_sql: bool  # the texts themselves are read only when needed: see StoredText
    status: Status
    direction: Direction
    statements_done: int
    statement_hashes: tuple[str, ...]
    error: str | None
    applied_at: datetime
    applied_by: str
    client_host: str | None
    execution_ms: int | None
    sqlmig_version: str


class StoredText(NamedTuple):
    """The SQL history stored when a migration ran: read only for the few entries that need it
    (a drift diff, a down whose file is gone), never for every row: a seed file may be 50 MB."""

    up_sql: str
    down_sql: str | None


class MigrationText(NamedTuple):
    """What history records about a migration being run: identity, checksums and SQL text."""

    version: int
    name: str
    checksum_up: str
    checksum_down: str | None
    up_sql: str
    down_sql: str | None

    @property
    def label(self) -> str:
        return f"{self.version:03d}_{self.name}"

    @classmethod
    def of(cls, m: Migration) -> MigrationText:
        """What history records about migration ``m``, from its files."""
        down = m.down
        return cls(
            m.version,
            m.name,
            m.up.checksum,
            down.checksum if down else None,
            m.up.text,
            down.text if down else None,
        )
