"""Deliberately broken migration pairs, one per object kind: ``sqlmig test`` names the migration
and the object, and the example migrations pass clean."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.helpers import REPO, Result, pair, run_cli
from tests.roundtrip.conftest import RoundTrip, report

# 001 builds what the broken 002s change; its down is right.
BASE = pair(
    1,
    "base",
    "CREATE TABLE t (id int PRIMARY KEY, email text, created_at timestamptz DEFAULT now());\n"
    "CREATE TYPE status AS ENUM ('a', 'c');\n"
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n"
    "CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();\n"
    "CREATE VIEW v AS SELECT id FROM t;\n",
    "DROP VIEW v;\nDROP TABLE t;\nDROP FUNCTION touch();\nDROP FUNCTION f();\nDROP TYPE status;\n",
)


@dataclass(frozen=True)
class Case:
    name: str
    up: str
    down: str
    expected: tuple[str, ...]  # each must appear in the report's differences ({role}: grantee)


CASES = [
    Case(
        "forgets_index",
        "CREATE INDEX t_email_idx ON t (email);",
        "SELECT 1;",
        ("after down of 002_forgets_index: index public.t_email_idx still exists",),
    ),
    Case(
        "forgets_column",
        "ALTER TABLE t ADD COLUMN phone varchar(20);",
        "SELECT 1;",
        ("column public.t.phone character varying(20) still exists",),
    ),
    Case(
        "wrong_default",
        "ALTER TABLE t ALTER COLUMN created_at SET DEFAULT clock_timestamp();",
        "ALTER TABLE t ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP;",
        ("default of column public.t.created_at is CURRENT_TIMESTAMP, expected now()",),
    ),
    Case(
        "forgets_not_null",
        "ALTER TABLE t ALTER COLUMN email SET NOT NULL;",
        "SELECT 1;",
        ("nullability of column public.t.email is NOT NULL, expected nullable",),
    ),
    Case(
        "forgets_type",
        "CREATE TYPE mood AS ENUM ('sad', 'ok');",
        "SELECT 1;",
        ("type public.mood still exists", 'type "mood" already exists'),
    ),
    Case(
        "enum_order",
        "ALTER TYPE status ADD VALUE 'b' AFTER 'a';",
        # a value cannot be removed: the down rebuilds the type, with the labels swapped
        "ALTER TYPE status RENAME TO status_old;\n"
        "CREATE TYPE status AS ENUM ('c', 'a');\n"
        "DROP TYPE status_old;",
        ("labels of type public.status are ('c', 'a'), expected ('a', 'c')",),
    ),
    Case(
        "function_volatility",
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;",
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 $$;",
        ("volatility of function public.f() is STABLE, expected VOLATILE",),
    ),
    Case(
        "function_body",
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;",
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;",
        ("body of function public.f() is 'SELECT 1;', expected SELECT 1",),
    ),
    Case(
        "trigger_left_disabled",
        "ALTER TABLE t DISABLE TRIGGER t_touch;",
        "SELECT 1;",
        ("state of trigger t_touch on table public.t is disabled, expected enabled",),
    ),
    Case(
        "view_not_restored",
        "CREATE OR REPLACE VIEW v AS SELECT id, email FROM t;",
        "DROP VIEW v;",
        ("view public.v was dropped, but existed before up",),
    ),
    Case(
        "comment_on_wrong_object",
        "COMMENT ON COLUMN t.email IS 'where we write';",
        "COMMENT ON TABLE t IS NULL;",
        ("comment of column public.t.email is where we write, expected none",),
    ),
    Case(
        "forgets_grant",
        "GRANT SELECT, UPDATE (email) ON t TO {role};",
        "REVOKE SELECT ON t FROM {role};",
        ("grants of column public.t.email are {role} UPDATE, expected none",),
    ),
    Case(
        "forgets_policy",
        "CREATE POLICY t_mine ON t USING (id > 0);",
        "SELECT 1;",
        ("policy t_mine on table public.t still exists",),
    ),
    Case(
        "forgets_row_security",
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        "SELECT 1;",
        ("row level security of table public.t is enabled, expected disabled",),
    ),
    Case(
        "dropped_column_not_restored",
        "ALTER TABLE t DROP COLUMN created_at;",
        "ALTER TABLE t ADD COLUMN created_at timestamptz;",
        ("default of column public.t.created_at is none, expected now()",),
    ),
    Case(
        "cannot_run_twice",
        "CREATE SEQUENCE t_seq;\nCREATE TABLE u (id int DEFAULT nextval('t_seq'));",
        "DROP TABLE u;",
        (
            "after down of 002_cannot_run_twice: sequence public.t_seq still exists",
            "after down of 002_cannot_run_twice, up cannot be applied again:",
            '002_cannot_run_twice.up.sql:1:1: 42P07 relation "t_seq" already exists',
        ),
    ),
    Case(
        "differs_after_reup",
        "CREATE TABLE IF NOT EXISTS w (id int);\n"
        "ALTER TABLE w ADD COLUMN IF NOT EXISTS n int DEFAULT 1;",
        "ALTER TABLE w ALTER COLUMN n SET DEFAULT 2;",
        (
            "after down of 002_differs_after_reup: table public.w still exists",
            "after re-up of 002_differs_after_reup: default of column public.w.n is 2, expected 1",
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_down_is_reported_naming_migration_and_object(
    roundtrip: RoundTrip, grantee: str, case: Case
) -> None:
    files = {
        **BASE,
        **pair(2, case.name, case.up.format(role=grantee), case.down.format(role=grantee)),
    }
    result = roundtrip(files, "--format", "json")
    assert result.code == 1, result.text
    assert report(result, 1)["ok"] is True
    second = report(result, 2)
    assert second["ok"] is False
    found = "\n".join(second["differences"])
    for expected in case.expected:
        assert expected.format(role=grantee) in found, found
    assert all(f"002_{case.name}" in d for d in second["differences"])


def test_text_report_lists_each_migration_and_indents_differences(roundtrip: RoundTrip) -> None:
    case = CASES[0]
    result = roundtrip({**BASE, **pair(2, case.name, case.up, case.down)})
    assert result.code == 1, result.text
    lines = result.out.splitlines()
    assert lines[0] == "ok   001_base"
    assert lines[1] == "FAIL 002_forgets_index"
    assert lines[2] == f"  {case.expected[0]}"
    assert lines[-1].startswith("2 tested in ") and lines[-1].endswith(": 1 failed")


def test_later_migrations_start_from_the_state_production_would_have(
    roundtrip: RoundTrip,
) -> None:
    # 002 leaves an index behind; 003 creates the same index again (no IF NOT EXISTS):
    # it must not fail because of 002's leftover, so the database is rebuilt after 002.
    files = {
        **BASE,
        **pair(2, "forgets_index", CASES[0].up, "SELECT 1;"),
        **pair(3, "reindex", "DROP INDEX t_email_idx;", CASES[0].up),
    }
    result = roundtrip(files, "--format", "json")
    assert result.code == 1, result.text
    assert report(result, 2)["ok"] is False
    assert report(result, 3) == {
        "version": 3,
        "name": "reindex",
        "ok": True,
        "differences": [],
        "skipped": None,
    }


def test_a_migration_that_fails_to_apply_exits_3_with_its_position(
    roundtrip: RoundTrip,
) -> None:
    files = {
        **BASE,
        **pair(
            2, "broken", "CREATE TABLE x (id int);\nSELECT 1;\nSELECT nope FROM t;\n", "SELECT 1;"
        ),
        **pair(3, "never_reached", "SELECT 1;", "SELECT 1;"),
    }
    result = roundtrip(files, "--format", "json")
    assert result.code == 3, result.text
    assert '002_broken.up.sql:3:8: 42703 column "nope" does not exist' in result.err
    assert "hint: fix the migration and run 'sqlmig test' again" in result.err
    second = report(result, 2)
    assert second["ok"] is False
    assert "up of 002_broken failed:" in second["differences"][0]
    assert [m["version"] for m in json_migrations(result)] == [1, 2]


def json_migrations(result: Result) -> list[dict[str, object]]:
    migrations: list[dict[str, object]] = json.loads(result.out)["migrations"]
    return migrations


def test_the_example_migrations_pass_clean(pg_admin_dsn: str) -> None:
    result = run_cli(REPO, "test", "--admin-dsn", pg_admin_dsn)
    assert result.code == 0, result.text
    lines = result.out.splitlines()
    assert lines[0] == "ok   001_enable_pg_trgm"
    assert all(line.startswith("ok ") for line in lines[:-1])
    assert lines[-1].endswith("every down reverses its up")
