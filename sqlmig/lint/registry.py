"""Every lint rule, found by file name under ``sqlmig/lint/rules/`` (``idem001_<slug>.py``).

Listing the rules imports none of them (IDs and slugs come from the file names), so config
checks and ``explain`` stay cheap; a rule module is imported when a file must be linted.
Adding a rule is adding its module: nothing to register by hand.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from sqlmig.errors import UsageError
from sqlmig.lint import rules as _rules_package
from sqlmig.lint.rule import Rule

# Bump when what the rules report changes (part of the lint cache key, with a digest of the
# lint package's sources as a safety net for a forgotten bump).
RULESET_VERSION: Final = "2"

_MODULE_RE: Final = re.compile(r"([a-z]+[0-9]{3})_([a-z0-9_]+)")
_PACKAGE: Final = _rules_package.__name__


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    slug: str
    module: str


@cache
def infos() -> dict[str, RuleInfo]:
    """Every rule by ID, sorted, from the module names alone."""
    found: dict[str, RuleInfo] = {}
    for module in pkgutil.iter_modules(_rules_package.__path__):
        match = _MODULE_RE.fullmatch(module.name)
        if match is not None:
            rule_id, slug = match.group(1).upper(), match.group(2).replace("_", "-")
            found[rule_id] = RuleInfo(rule_id, slug, f"{_PACKAGE}.{module.name}")
    return dict(sorted(found.items()))


def rule_ids() -> frozenset[str]:
    return frozenset(infos())


@cache
def rule_class(rule_id: str) -> type[Rule]:
    """The rule class of ``rule_id``: the one Rule subclass its module defines."""
    info = infos()[rule_id]
    module = importlib.import_module(info.module)
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Rule)
        and value.__module__ == module.__name__
    ]
    if len(classes) != 1:
        raise TypeError(f"{info.module} must define exactly one Rule subclass")
    return classes[0]


def module_doc(rule_id: str) -> str:
    """The rule's documentation: its module's docstring."""
    module = importlib.import_module(infos()[rule_id].module)
    return module.__doc__ or ""


def all_rules() -> list[Rule]:
    return [rule_class(rule_id)() for rule_id in infos()]


def resolve(name: str) -> str:
    """The rule ID for an ID or slug in any case; UsageError listing close matches."""
    wanted = name.strip()
    by_slug = {info.slug: rule_id for rule_id, info in infos().items()}
    if wanted.upper() in infos():
        return wanted.upper()
    if wanted.lower() in by_slug:
        return by_slug[wanted.lower()]
    close = difflib.get_close_matches(wanted.upper(), infos(), n=3, cutoff=0.5)
    close += [by_slug[s] for s in difflib.get_close_matches(wanted.lower(), by_slug, n=3)]
    hint = "run 'sqlmig explain' with a rule ID such as IDEM001"
    if close:
        hint = f"did you mean {', '.join(dict.fromkeys(close))}?"
    raise UsageError(f"unknown lint rule {name!r}", hint)


def suggest(rule_id: str) -> str:
    """'; did you mean X?' for an unknown rule ID, or ''."""
    close = difflib.get_close_matches(rule_id, infos(), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


@cache
def source_digest() -> str:
    """sha256 of the sources that decide findings: the lint package, the splitter, scripts."""
    digest = hashlib.sha256(RULESET_VERSION.encode())
    package = Path(__file__).parent.parent
    paths = [*(package / "lint").rglob("*.py"), *(package / "sql").rglob("*.py")]
    for path in sorted([*paths, package / "script.py"]):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
