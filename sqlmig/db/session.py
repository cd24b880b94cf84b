"""A working session on one target: a migration connection, optionally the deploy lock, history."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import NamedTuple

from sqlmig.db.connect import Conn, connect, database_errors
from sqlmig.db.history import History
from sqlmig.db.lock import Holder, deploy_lock
from sqlmig.files import Migration
from sqlmig.plan import Entry, reconcile
from sqlmig.records import HistoryRow


class Session(NamedTuple):
    conn: Conn
    history: History

    def rows(self) -> dict[int, HistoryRow]:
        return self.history.rows(self.conn)

    def entries(self, migrations: Sequence[Migration]) -> list[Entry]:
        """Files and history reconciled, with the stored SQL read for the entries that need it:
        an edited applied migration (its diff) and one whose files are gone (its down)."""
        entries = reconcile(migrations, self.rows())
        wanted = {
            e.version
            for e in entries
            if e.state == "changed" or (e.migration is None and e.row is not None)
        }
        stored = self.history.texts(self.conn, wanted)
        return [e._replace(stored=stored[e.version]) if e.version in stored else e for e in entries]

    def prepare_writes(self) -> None:
        """Create the history tables if missing: called only once there is work to record, so a
        run refused for bad input leaves the database exactly as it was."""
        self.history.ensure(self.conn)


@contextmanager
def open_session(
    dsn: str,
    schema: str,
    name: str,
    *,
    lock_wait_s: float | None,
    on_wait: Callable[[Holder | None], None] | None = None,
) -> Iterator[Session]:
    """Read-only when ``lock_wait_s`` is None; else hold the deploy lock for the whole block."""
    history = History(schema, name)
    with database_errors(dsn), ExitStack() as stack:
        if lock_wait_s is not None:
            stack.enter_context(deploy_lock(dsn, history.display, lock_wait_s, on_wait))
        conn = stack.enter_context(connect(dsn, autocommit=True))
        yield Session(conn, history)
