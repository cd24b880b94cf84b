"""``run``: one query string over the simple protocol, with the client's own work overlapping."""

from __future__ import annotations

from psycopg import pq

from sqlmig.db.connect import connect
from sqlmig.db.run import run


def test_meanwhile_runs_while_the_server_works_on_the_query(db_dsn: str) -> None:
    seen: list[int] = []
    with connect(db_dsn) as conn:
        failure = run(
            conn,
            "SELECT pg_sleep(0.2); CREATE TABLE t (id int)",
            lambda: seen.append(conn.pgconn.transaction_status),
        )
        assert failure is None
        assert seen == [pq.TransactionStatus.ACTIVE]  # called once, with the query in flight
        assert conn.execute("SELECT to_regclass('t') IS NOT NULL").fetchone() == (True,)


def test_an_error_in_meanwhile_does_not_lose_the_query_result(db_dsn: str) -> None:
    def broken() -> None:
        raise ValueError("preparing the next migration failed")

    with connect(db_dsn) as conn:
        failure = run(conn, "CREATE TABLE t (id int); INSERT INTO t VALUES ('x')", broken)
        assert failure is not None
        assert failure.sqlstate == "22P02"  # the query's own error, read in full
        assert failure.completed == 1
        # the connection is idle and usable: nothing of the string is left in flight
        assert conn.pgconn.transaction_status == pq.TransactionStatus.IDLE
        assert conn.execute("SELECT 1").fetchone() == (1,)
