"""``sqlmig explain [RULE]``: a rule's documentation (its module docstring), or the rule list."""

from __future__ import annotations

import inspect

from sqlmig.lint import registry


def as_text(name: str | None) -> str:
    """ID, slug and severity, then the documentation; without a name, one line per rule."""
    if name is None:
        return "".join(
            f"{_heading(rule_id)}  {_summary(rule_id)}\n" for rule_id in registry.infos()
        )
    rule_id = registry.resolve(name)
    return f"{_heading(rule_id)}\n\n{inspect.cleandoc(registry.module_doc(rule_id))}\n"


def as_json(name: str | None) -> object:
    if name is None:
        return {"rules": [_doc(rule_id, full=False) for rule_id in registry.infos()]}
    return _doc(registry.resolve(name), full=True)


def _heading(rule_id: str) -> str:
    rule = registry.rule_class(rule_id)
    scope = "" if rule.applies_to_down else ", not in down files"
    return f"{rule.id} {rule.slug} ({rule.severity}{scope})"


def _summary(rule_id: str) -> str:
    doc = inspect.cleandoc(registry.module_doc(rule_id))
    return doc.splitlines()[0] if doc else ""


def _doc(rule_id: str, *, full: bool) -> dict[str, object]:
    rule = registry.rule_class(rule_id)
    doc: dict[str, object] = {
        "rule": rule.id,
        "slug": rule.slug,
        "severity": rule.severity,
        "applies_to_down": rule.applies_to_down,
        "summary": _summary(rule_id),
    }
    if full:
        doc["doc"] = inspect.cleandoc(registry.module_doc(rule_id))
    return doc
