"""The engine: suppressions, config, down files, DO blocks, function bodies, errors."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pytest

from sqlmig.config import Severity
from sqlmig.errors import MigrationFileError
from sqlmig.files import Kind
from sqlmig.lint.engine import Report, Settings, lint_source, lint_sources, rules_for
from sqlmig.lint.rule import Finding
from sqlmig.lint.source import Source
from sqlmig.lint.suppress import SuppressionError
from tests.lint.casefile import sql_file

CREATE = "CREATE TABLE users (id uuid PRIMARY KEY);\n"


def lint(text: str, settings: Settings | None = None, *, kind: Kind = "up") -> list[Finding]:
    file = sql_file(f"001_x.{kind}.sql", text, kind)
    return lint_source(Source(file, kind, str(file.path)), settings or Settings())


def rules(findings: list[Finding]) -> list[str]:
    return [f"{f.line}:{f.column} {f.rule}" for f in findings]


def test_ignore_before_a_statement_suppresses_its_finding() -> None:
    text = f"-- sqlmig:ignore IDEM001 dropped by the nightly job first\n{CREATE}{CREATE}"
    assert rules(lint(text)) == ["3:14 IDEM001"]


def test_ignore_after_code_applies_to_the_statement_on_that_line() -> None:
    text = f"CREATE TABLE users (id uuid PRIMARY KEY);  -- sqlmig:ignore IDEM001 rebuilt\n{CREATE}"
    assert rules(lint(text)) == ["2:14 IDEM001"]


def test_ignore_inside_a_statement_applies_to_it() -> None:
    text = "CREATE TABLE\n  -- sqlmig:ignore IDEM001 scratch table, rebuilt every run\n  t (a uuid PRIMARY KEY);"
    assert lint(text) == []


def test_ignore_before_a_do_block_covers_its_body() -> None:
    text = "-- sqlmig:ignore LOCK001 tiny table\nDO $$ BEGIN CREATE INDEX IF NOT EXISTS i ON t (a); END $$;"
    assert lint(text) == []


def test_ignore_several_rules_at_once() -> None:
    text = (
        "-- sqlmig:ignore IDEM001,IDEM002,LOCK001 rebuilt from scratch on every deploy\n"
        "DO $$ BEGIN CREATE TABLE t (a uuid PRIMARY KEY); CREATE INDEX i ON u (a); END $$;"
    )
    assert lint(text) == []


def test_ignore_file_suppresses_everywhere() -> None:
    text = f"-- sqlmig:ignore-file IDEM001 scratch tables rebuilt on every deploy\n{CREATE}{CREATE}"
    assert lint(text) == []


def test_ignore_without_a_reason_is_a_file_error() -> None:
    text = f"SELECT 1;\n-- sqlmig:ignore IDEM001\n{CREATE}"
    with pytest.raises(SuppressionError, match="needs a reason") as info:
        lint(text)
    assert (info.value.line, info.value.column) == (2, 1)


def test_ignore_without_a_reason_in_the_header_is_a_file_error() -> None:
    with pytest.raises(MigrationFileError, match="needs a reason"):
        lint(f"-- sqlmig:ignore IDEM001\n{CREATE}")


def test_ignore_with_a_malformed_rule_id_is_a_file_error() -> None:
    with pytest.raises(MigrationFileError, match="not a rule ID"):
        lint(f"SELECT 1;\n-- sqlmig:ignore idem001 lower case\n{CREATE}")


def test_unused_and_unknown_suppressions_are_reported() -> None:
    text = (
        "-- sqlmig:ignore-file LOCK001 nothing to see\n"
        "-- sqlmig:ignore IDEM001 table is new\n"
        "CREATE TABLE IF NOT EXISTS t (a uuid PRIMARY KEY);\n"
        "-- sqlmig:ignore LOCK01X,IDEM099 typo\n"
        "SELECT 1;\n"
    )
    with pytest.raises(MigrationFileError, match="LOCK01X"):
        lint(text)
    findings = lint(text.replace("LOCK01X,", ""))
    assert rules(findings) == ["1:1 SQLMIG001", "2:1 SQLMIG001", "4:1 SQLMIG001"]
    assert "unknown rule IDEM099" in findings[2].message
    assert findings[0].severity == "warning"


def test_unused_suppression_rule_can_be_disabled() -> None:
    text = "-- sqlmig:ignore IDEM001 table is new\nSELECT 1;"
    assert lint(text, Settings(disable=frozenset({"SQLMIG001"}))) == []
    silenced = "-- sqlmig:ignore-file SQLMIG001 kept for the next change\n" + text
    assert lint(silenced) == []


def test_config_disables_rules() -> None:
    assert lint(CREATE, Settings(disable=frozenset({"IDEM001"}))) == []


def test_config_overrides_severities() -> None:
    severity: Mapping[str, Severity] = MappingProxyType({"IDEM001": "info"})
    (finding,) = lint(CREATE, Settings(severity=severity))
    assert finding.severity == "info"


def test_unknown_rule_ids_in_the_config_are_warnings() -> None:
    settings = Settings(
        disable=frozenset({"IDME001"}), severity=MappingProxyType({"XYZ999": "error"})
    )
    assert settings.warnings() == [
        "lint.disable: unknown lint rule IDME001; did you mean IDEM001?; it has no effect",
        "lint.severity.XYZ999: unknown lint rule XYZ999; it has no effect",
    ]


def test_down_files_get_their_own_subset() -> None:
    up = {r.id for r in rules_for("up")}
    down = {r.id for r in rules_for("down")}
    assert "CONV005" in up and "CONV005" not in down
    assert {"IDEM001", "LOCK001"} <= down


def test_statements_in_do_blocks_are_linted_and_function_bodies_are_not() -> None:
    text = (
        "DO $$ BEGIN CREATE INDEX IF NOT EXISTS i ON t (a); END $$;\n"
        "CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ "
        "BEGIN CREATE INDEX j ON t (a); "
        "END $$;\n"
    )
    assert rules(lint(text)) == ["1:20 LOCK001"]


def test_findings_are_sorted_and_carry_the_rule_slug_and_hint() -> None:
    (a, b) = lint("CREATE INDEX IF NOT EXISTS i ON t (a);\nCREATE TABLE t2 (a uuid PRIMARY KEY);")
    assert (a.rule, b.rule) == ("LOCK001", "IDEM001")
    assert a.slug == "create-index-not-concurrently" and a.hint


def test_a_file_that_cannot_be_split_is_an_error_of_the_report() -> None:
    good = sql_file("001_a.up.sql", CREATE, "up")
    bad = sql_file("002_b.up.sql", "SELECT 1;\nSELECT 'oops;\n", "up")
    report = lint_sources(
        [Source(good, "up", "001_a.up.sql"), Source(bad, "up", "002_b.up.sql")], Settings(), None
    )
    assert [e.path for e in report.errors] == ["002_b.up.sql"]
    assert (report.errors[0].line, report.errors[0].column) == (2, 8)
    assert "unterminated" in report.errors[0].message
    assert report.exit_code == 2


def test_exit_codes() -> None:
    error = Finding("p", 1, 1, "X", "x", "error", "m", "h")
    warning = Finding("p", 1, 1, "X", "x", "warning", "m", "h")
    assert Report().exit_code == 0
    assert Report(findings=[warning]).exit_code == 0
    assert Report(findings=[warning, error]).exit_code == 1
