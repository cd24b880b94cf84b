"""Progress of long statements on a terminal: elapsed time, and an index build's phase and blocks.

A daemon thread with its own connection polls ``pg_stat_progress_create_index`` for the
migration's backend once a statement has run for a while. Used only when stderr is a terminal;
nothing of it ever reaches a pipe or a log.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, TextIO

from sqlmig.db.connect import Conn, connect

if TYPE_CHECKING:
    from sqlmig.script import Script
    from sqlmig.sql.split import Statement

QUIET_S = 2.0  # statements quicker than this show nothing
TICK_S = 1.0


class Progress:
    def __init__(self, dsn: str, stream: TextIO) -> None:
        self.dsn = dsn
        self.stream = stream
        self._lock = threading.Lock()
        self._what: tuple[str, int, float] | None = None
        self._conn: Conn | None = None
        self._shown = False
        self._thread = threading.Thread(target=self._loop, name="sqlmig-progress", daemon=True)
        self._thread.start()

    def watch(self, script: Script, stmt: Statement | None, backend_pid: int) -> None:
        where = script.where(stmt) if stmt else script.path
        with self._lock:
            self._what = (where, backend_pid, time.monotonic())

    def stop_watching(self) -> None:
        with self._lock:
            self._what = None
            if self._shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self._shown = False

    def _loop(self) -> None:
        while True:
            time.sleep(TICK_S)
            with self._lock:
                what = self._what
            if what is None or time.monotonic() - what[2] < QUIET_S:
                continue
            line = self._line(*what)
            with self._lock:
                if self._what == what:
                    self.stream.write("\r\033[K" + line)
                    self.stream.flush()
                    self._shown = True

    def _line(self, where: str, pid: int, since: float) -> str:
        text = f"{where}: running for {time.monotonic() - since:.0f}s"
        phase = self._index_phase(pid)
        return f"{text}, {phase}" if phase else text

    def _index_phase(self, pid: int) -> str | None:
        try:
            if self._conn is None:
                self._conn = connect(self.dsn)
            row = self._conn.execute(
                "SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total"
                " FROM pg_stat_progress_create_index WHERE pid = %s",
                [pid],
            ).fetchone()
        except Exception:  # progress must never break a migration
            return None
        if row is None:
            return None
        phase, bdone, btotal, tdone, ttotal = row
        if btotal:
            return f"{phase}: block {bdone} of {btotal}"
        if ttotal:
            return f"{phase}: tuple {tdone} of {ttotal}"
        return str(phase)
