"""The documented Python API: ``sqlmig.split_statements`` and ``sqlmig.Statement``."""

from __future__ import annotations

import sqlmig


def test_split_statements_is_the_public_entry_point() -> None:
    text = "-- users\nCREATE TABLE users (id int);\n\nCREATE INDEX CONCURRENTLY users_id_idx ON users (id);\n"
    statements = sqlmig.split_statements(text)
    assert [(s.line, s.transactional) for s in statements] == [(2, True), (4, False)]
    assert statements[0].sql == "CREATE TABLE users (id int)"
    assert isinstance(statements[0], sqlmig.Statement)
    assert set(sqlmig.__all__) >= {"split_statements", "Statement", "SqlmigError", "__version__"}
