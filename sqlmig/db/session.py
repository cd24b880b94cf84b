"""A working session on one target: a migration connection, optionally the deploy lock, history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from sqlmig.db.connect import Conn, connect
from sqlmig.db.history import History
from sqlmig.db.lock import Holder, deploy_lock
from sqlmig.records import HistoryRow


@dataclass
class Session:
    conn: Conn
    history: History

    def rows(self) -> dict[int, HistoryRow]:
        return self.history.rows(self.conn)


@contextmanager
def open_session(
    dsn: str,
    schema: str,
    name: str,
    *,
    lock_wait_s: float | None,
    on_wait: Callable[[Holder | None], None] | None = None,
) -> Iterator[Session]:
    """Read-only when ``lock_wait_s`` is None; else hold the deploy lock and ensure the tables."""
    history = History(schema, name)
    with ExitStack() as stack:
        if lock_wait_s is not None:
            stack.enter_context(deploy_lock(dsn, history.display, lock_wait_s, on_wait))
        conn = stack.enter_context(connect(dsn, autocommit=True))
        if lock_wait_s is not None:
            history.ensure(conn)
        yield Session(conn, history)
