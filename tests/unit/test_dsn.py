"""mask_dsn hides every password form libpq accepts and leaves the rest readable."""

from __future__ import annotations

import pytest

from sqlmig.dsn import mask_dsn

CASES = [
    ("postgresql://user:secret@host/db", "postgresql://user:***@host/db"),
    ("postgres://user:secret@host:5432/db", "postgres://user:***@host:5432/db"),
    ("POSTGRESQL://user:secret@host/db", "POSTGRESQL://user:***@host/db"),
    ("postgresql+psycopg://u:secret@h/db", "postgresql+psycopg://u:***@h/db"),
    ("postgresql://user:s%40cr%3At@host/db", "postgresql://user:***@host/db"),
    ("postgresql://user:p@ss@host/db", "postgresql://user:***@host/db"),
    ("postgresql://user:pa:ss@host/db", "postgresql://user:***@host/db"),
    ("postgresql://user@azure:secret@host/db", "postgresql://user@azure:***@host/db"),
    ("postgresql://:secret@host/db", "postgresql://:***@host/db"),
    ("postgresql://u:secret@h1:5432,h2:5433/db", "postgresql://u:***@h1:5432,h2:5433/db"),
    ("postgresql://u:secret@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require"),
    ("postgresql://h/db?user=u&password=secret", "postgresql://h/db?user=u&password=***"),
    ("postgresql://h/db?password=secret&sslmode=off", "postgresql://h/db?password=***&sslmode=off"),
    ("postgresql://h/db?sslpassword=secret", "postgresql://h/db?sslpassword=***"),
    ("postgresql://h/db?options=a@b", "postgresql://h/db?options=a@b"),
    ("postgresql://user@host/db", "postgresql://user@host/db"),
    ("postgresql://user:@host/db", "postgresql://user:@host/db"),
    ("postgresql:///db?host=/tmp", "postgresql:///db?host=/tmp"),
    ("host=x password=secret dbname=d", "host=x password=*** dbname=d"),
    ("host=x password = secret", "host=x password = ***"),
    ("password='se cret' host=x", "password=*** host=x"),
    (r"password='it\'s secret' host=x", "password=*** host=x"),
    ("password='unterminated secret", "password=***"),
    ("host=x PASSWORD=secret", "host=x PASSWORD=***"),
    ("host=x sslpassword=secret", "host=x sslpassword=***"),
    ("host=x dbname=password", "host=x dbname=password"),
    ("host=x user=u", "host=x user=u"),
    ("", ""),
]


@pytest.mark.parametrize(("dsn", "masked"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_mask_dsn_hides_the_password(dsn: str, masked: str) -> None:
    assert mask_dsn(dsn) == masked


@pytest.mark.parametrize("dsn", [c[0] for c in CASES if "secret" in c[0]])
def test_no_part_of_a_password_survives(dsn: str) -> None:
    for fragment in ("secret", "cret", "s%40"):
        assert fragment not in mask_dsn(dsn)
