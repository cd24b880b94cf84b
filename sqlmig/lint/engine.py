"""Lint files: run the rules on each file, apply config and suppressions, use the cache.

Decisions: rule IDs in ``lint.disable``/``lint.severity`` that no rule has are warnings (on
stderr), not errors: a config shared by several sqlmig versions may name a newer rule, and a
typo is still shown on every run. A suppression naming an unknown rule, or suppressing nothing,
is a SQLMIG001 finding. A suppression of a rule that did not run on the file (disabled, or off
in down files) is not reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from sqlmig.config import Config, Severity
from sqlmig.errors import MigrationFileError
from sqlmig.files import Kind
from sqlmig.lint import registry
from sqlmig.lint.cache import LintCache
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.source import Source

if TYPE_CHECKING:
    from sqlmig.lint.context import FileContext
    from sqlmig.lint.suppress import Suppression

UNUSED: Final = "SQLMIG001"
_WHERE_RE: Final = re.compile(r":(\d+)(?::(\d+))?: ")
_SEVERITY_ORDER: Final = {"error": 0, "warning": 1, "info": 2}


def _no_overrides() -> Mapping[str, Severity]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Settings:
    """What of the configuration changes lint results (all of it is in the cache key)."""

    disable: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=_no_overrides)
    lock_timeout_ms: int = 5000

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        return cls(config.lint.disable, config.lint.severity, config.lock_timeout_ms)

    def fingerprint(self) -> str:
        return json.dumps(
            [sorted(self.disable), sorted(self.severity.items()), self.lock_timeout_ms]
        )

    def warnings(self) -> list[str]:
        """One line per rule ID in the config that no rule has."""
        known = registry.rule_ids()
        named = [("lint.disable", r) for r in sorted(self.disable)]
        named += [(f"lint.severity.{r}", r) for r in sorted(self.severity)]
        return [
            f"{where}: unknown lint rule {rule}{registry.suggest(rule)}; it has no effect"
            for where, rule in named
            if rule not in known
        ]


@dataclass(frozen=True, slots=True)
class LintError:
    """A file that could not be linted (unreadable, not UTF-8, unterminated quote, ...)."""

    path: str
    message: str
    hint: str
    line: int | None = None
    column: int | None = None


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[LintError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: int = 0
    cached: int = 0

    @property
    def exit_code(self) -> int:
        """2 when a file could not be linted, 1 on an error-level finding, else 0."""
        if self.errors:
            return 2
        return 1 if any(f.severity == "error" for f in self.findings) else 0


def lint_sources(sources: Iterable[Source], settings: Settings, store: LintCache | None) -> Report:
    report = Report(warnings=settings.warnings())
    for source in sources:
        report.files += 1
        key = store.key(source, settings) if store is not None else ""
        hit = store.get(key, source.display) if store is not None else None
        if hit is not None:
            report.findings += hit
            report.cached += 1
            continue
        try:
            found = lint_source(source, settings)
        except MigrationFileError as exc:
            report.errors.append(error_of(exc, source.display, source.file.path))
            continue
        if store is not None:
            store.put(key, found)
        report.findings += found
    return report


def lint_source(source: Source, settings: Settings) -> list[Finding]:
    """The findings of one file, after config and suppressions; raises MigrationFileError."""
    from sqlmig.lint.context import build  # here: a run served from the cache never lexes
    from sqlmig.lint.suppress import suppressions

    ctx = build(source, settings.lock_timeout_ms)
    found = suppressions(ctx)
    rules = rules_for(source.kind, settings.disable)
    raw = [finding for rule in rules for finding in rule.check(ctx)]
    kept, used = _suppress(raw, found)
    if UNUSED not in settings.disable:
        unused = _unused(ctx, found, used, {rule.id for rule in rules})
        kept += _suppress(unused, [s for s in found if s.statement is None])[0]
    return _finish(kept, settings)


def rules_for(kind: Kind, disable: frozenset[str] = frozenset()) -> list[Rule]:
    return [r for r in _instances() if r.id not in disable and (kind == "up" or r.applies_to_down)]


@cache
def _instances() -> tuple[Rule, ...]:
    return tuple(registry.all_rules())


def _suppress(
    findings: list[Finding], found: Sequence[Suppression]
) -> tuple[list[Finding], set[tuple[int, str]]]:
    """(findings no suppression covers, (suppression index, rule) pairs that suppressed)."""
    used: set[tuple[int, str]] = set()
    kept: list[Finding] = []
    for finding in findings:
        hits = [
            k
            for k, s in enumerate(found)
            if finding.rule in s.rules and s.statement in (None, finding.statement)
        ]
        used.update((k, finding.rule) for k in hits)
        if not hits:
            kept.append(finding)
    return kept, used


def _unused(
    ctx: FileContext, found: list[Suppression], used: set[tuple[int, str]], ran: set[str]
) -> list[Finding]:
    rule = registry.rule_class(UNUSED)
    out = []
    for k, s in enumerate(found):
        for rule_id in s.rules:
            if rule_id == UNUSED or (rule_id in ran and (k, rule_id) in used):
                continue
            if rule_id not in registry.rule_ids():
                what = f"names unknown rule {rule_id}{registry.suggest(rule_id)}"
            elif rule_id in ran:
                scope = "the next statement has" if s.statement is not None else "the file has"
                what = f"suppresses nothing: {scope} no {rule_id} finding"
            else:
                continue  # the rule did not run here (disabled, or off in down files)
            message = f"{s.directive} {what}"
            out.append(Finding(ctx.display, s.line, s.column, rule.id, rule.slug, rule.severity,
                               message, rule.hint))  # fmt: skip
    return out


def _finish(findings: list[Finding], settings: Settings) -> list[Finding]:
    """Configured severities, duplicates dropped, in file order."""
    out = {
        (f.line, f.column, f.rule, f.message): replace(
            f, severity=settings.severity.get(f.rule, f.severity)
        )
        for f in findings
    }
    return [out[key] for key in sorted(out)]


def error_of(exc: MigrationFileError, display: str, path: Path) -> LintError:
    """A LintError from an error whose message starts with the file's path (and position)."""
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if isinstance(line, int) and isinstance(column, int):  # a SuppressionError
        return LintError(display, exc.message, exc.hint, line, column)
    message = exc.message
    for prefix in (display, str(path)):
        message = message.removeprefix(prefix)
    where = _WHERE_RE.match(message)
    if where is None:
        return LintError(display, message.removeprefix(": "), exc.hint)
    column = int(where.group(2)) if where.group(2) else None
    return LintError(display, message[where.end() :], exc.hint, int(where.group(1)), column)


def severity_rank(severity: Severity) -> int:
    return _SEVERITY_ORDER[severity]
