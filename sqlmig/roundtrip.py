"""``sqlmig test``: prove on a scratch database that every down reverses its up.

This module holds the verb and its result values and imports no database code, so the CLI loads
it freely; the work itself is ``sqlmig.db.roundtrip``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from sqlmig.errors import SqlmigError, UsageError
from sqlmig.files import Migration
from sqlmig.script import Script

if TYPE_CHECKING:
    from sqlmig.commands import Context

# a migration's up, and its down (None: no down file, or an irreversible one)
Scripts: TypeAlias = tuple[Script, Script | None]


@dataclass
class Report:
    """One migration's round trip: what differed (plain sentences), or why it was skipped."""

    version: int
    name: str
    label: str
    differences: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass
class RoundTripResult:
    target: str
    server: str  # the masked DSN of the server that held the scratch database
    reports: list[Report] = field(default_factory=list)
    error: SqlmigError | None = None  # a migration's first up failed: nothing after it ran
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.reports)


def verify(
    ctx: Context,
    *,
    admin_dsn: str | None = None,
    only: int | None = None,
    start: int | None = None,
) -> RoundTripResult:
    """Round-trip the target's migrations (all, ``only`` one, or from version ``start`` on).

    Every file is read and split before any database work, so a broken file is exit 2 and
    leaves nothing behind.
    """
    migrations = ctx.migrations()
    if not migrations:
        return RoundTripResult(ctx.target.name, "")
    first = first_tested(migrations, only=only, start=start)
    todo = migrations[: first + 1] if only is not None else migrations
    scripts = check_scripts(todo)

    from sqlmig.db.roundtrip import run

    return run(ctx, todo, scripts, first, admin_dsn)


def first_tested(migrations: Sequence[Migration], *, only: int | None, start: int | None) -> int:
    """Index of the first migration to test; the ones before it are only applied."""
    if only is not None and start is not None:
        raise UsageError("--only and --from cannot be used together", "pick one")
    if only is not None:
        for i, m in enumerate(migrations):
            if m.version == only:
                return i
        raise UsageError(f"--only {only}: no migration has version {only}", _versions(migrations))
    if start is not None:
        for i, m in enumerate(migrations):
            if m.version >= start:
                return i
        raise UsageError(
            f"--from {start}: no migration from version {start} on", _versions(migrations)
        )
    return 0


def _versions(migrations: Sequence[Migration]) -> str:
    shown = ", ".join(str(m.version) for m in migrations[:20])
    more = ", ..." if len(migrations) > 20 else ""
    return f"versions found: {shown}{more}" if shown else "the migrations folder is empty"


def check_scripts(migrations: Sequence[Migration]) -> list[Scripts]:
    """Split every up and down file now, raising MigrationFileError for the first bad one;
    the scripts, run as they were split."""
    out: list[Scripts] = []
    for m in migrations:
        up = Script.from_file(m.up, "up")
        up.check_runnable()
        down = None
        if m.down is not None and not m.down.directives.irreversible:
            down = Script.from_file(m.down, "down")
            down.check_runnable()
        out.append((up, down))
    return out
