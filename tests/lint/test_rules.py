"""Every case of tests/lint/cases/*.yaml: the rule fires exactly where the case expects."""

from __future__ import annotations

import pytest

from tests.lint.casefile import Case, load_cases, matches, run

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_case(case: Case) -> None:
    findings = run(case)
    got = [f"{f.line}:{f.column} {f.message}" for f in findings]
    assert matches(findings, case.expect), f"expected {list(case.expect)}, got {got}"
