"""Every registered rule is documented, tested by cases, and named consistently."""

from __future__ import annotations

import pytest

from sqlmig.config import SEVERITIES
from sqlmig.lint import registry
from sqlmig.lint.engine import Settings, lint_source
from sqlmig.lint.rule import DOC_SECTIONS
from tests.lint.casefile import CASES, load_cases, load_file, source_of

RULES = sorted(registry.infos())


def test_the_registry_finds_the_rules() -> None:
    assert {"IDEM001", "LOCK001", "CONV005", "SQLMIG001"} <= set(RULES)


@pytest.mark.parametrize("rule_id", RULES)
def test_rule_class_matches_its_module_name(rule_id: str) -> None:
    info = registry.infos()[rule_id]
    rule = registry.rule_class(rule_id)
    assert (rule.id, rule.slug) == (info.id, info.slug)
    assert rule.severity in SEVERITIES
    assert rule.hint, f"{rule_id} needs a default hint (the safe rewrite)"


@pytest.mark.parametrize("rule_id", RULES)
def test_rule_is_documented(rule_id: str) -> None:
    doc = registry.module_doc(rule_id)
    summary = doc.strip().splitlines()[0] if doc.strip() else ""
    assert summary, f"{rule_id}: the module docstring needs a one-line summary"
    missing = [section for section in DOC_SECTIONS if f"\n{section}\n" not in doc]
    assert not missing, f"{rule_id}: the module docstring lacks {missing}"


@pytest.mark.parametrize("rule_id", RULES)
def test_rule_has_enough_cases(rule_id: str) -> None:
    path = CASES / f"{rule_id}.yaml"
    assert path.is_file(), f"write {path} (see tests/lint/cases/README.md)"
    cases = load_file(path)
    firing = sum(1 for c in cases if c.fires)
    assert firing >= 2, f"{rule_id}: {firing} cases that must fire, need 2"
    assert len(cases) - firing >= 2, f"{rule_id}: {len(cases) - firing} look-alikes, need 2"


def test_every_case_file_names_a_rule() -> None:
    stray = {p.stem for p in CASES.glob("*.yaml")} - set(RULES)
    assert not stray, f"case files for unknown rules: {sorted(stray)}"


def test_every_rule_survives_every_case() -> None:
    """No rule may crash on any snippet written for another rule."""
    cases = load_cases()
    assert cases
    for case in cases:
        source = source_of(case)
        lines = source.file.text.count("\n") + 1
        for finding in lint_source(source, Settings()):
            assert finding.rule in RULES or finding.rule == "SQLMIG001", finding
            assert 1 <= finding.line <= lines and finding.column >= 1, (case.name, finding)
