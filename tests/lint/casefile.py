"""Load the rule test cases of ``tests/lint/cases/*.yaml`` and lint one in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, cast

import yaml

from sqlmig.checksum import checksum
from sqlmig.config import Severity
from sqlmig.durations import duration_ms
from sqlmig.files import FILENAME_RE, Kind, SqlFile, parse_directives
from sqlmig.lint.context import FileContext, build
from sqlmig.lint.engine import Settings, lint_source
from sqlmig.lint.rule import Finding
from sqlmig.lint.source import Source

CASES: Final = Path(__file__).parent / "cases"
_KEYS: Final = frozenset({"name", "sql", "expect", "kind", "path", "partner", "config"})
_CONFIG_KEYS: Final = frozenset({"lock_timeout", "disable", "severity"})
_DEFAULT_PARTNER: Final = "SELECT 1;\n"


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    sql: str
    expect: tuple[str, ...]
    kind: Kind = "up"
    path: str = ""
    partner: str | None = _DEFAULT_PARTNER
    settings: Settings = field(default_factory=Settings)

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.name}"

    @property
    def fires(self) -> bool:
        return bool(self.expect)


def load_cases(folder: Path = CASES) -> list[Case]:
    return [case for path in sorted(folder.glob("*.yaml")) for case in load_file(path)]


def load_file(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: must be a list of cases")
    cases = [_case(path.stem, item, path) for item in data]
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: case names must be unique")
    return cases


def _case(rule: str, item: object, path: Path) -> Case:
    if not isinstance(item, dict) or not {"name", "sql", "expect"} <= item.keys():
        raise ValueError(f"{path}: every case needs name, sql and expect: {item!r}")
    unknown = item.keys() - _KEYS
    if unknown:
        raise ValueError(f"{path}: case {item['name']!r} has unknown keys {sorted(unknown)}")
    kind = cast(Kind, item.get("kind", "up"))
    return Case(
        rule=rule,
        name=str(item["name"]),
        sql=str(item["sql"]),
        expect=tuple(str(e) for e in item["expect"]),
        kind=kind,
        path=str(item.get("path", f"001_case.{kind}.sql")),
        partner=item.get("partner", _DEFAULT_PARTNER),
        settings=_settings(item.get("config") or {}, path),
    )


def _settings(config: dict[str, Any], path: Path) -> Settings:
    if not config.keys() <= _CONFIG_KEYS:
        raise ValueError(f"{path}: config keys are {sorted(_CONFIG_KEYS)}")
    severity = cast(dict[str, Severity], config.get("severity", {}))
    return Settings(
        disable=frozenset(config.get("disable", ())),
        severity=MappingProxyType(severity),
        lock_timeout_ms=duration_ms(config.get("lock_timeout", 5000)),
    )


def sql_file(name: str, text: str, kind: Kind) -> SqlFile:
    path = Path(name)
    return SqlFile(path, text, checksum(text), parse_directives(text, path, kind))


def source_of(case: Case) -> Source:
    """The case as a file to lint, with its partner when it is named like a migration."""
    file = sql_file(case.path, case.sql, case.kind)
    match = FILENAME_RE.fullmatch(case.path)
    if match is None:
        return Source(file, case.kind, case.path)
    other: Kind = "down" if case.kind == "up" else "up"
    partner_path = Path(f"{match.group(1)}_{match.group(2)}.{other}.sql")
    partner = None if case.partner is None else sql_file(str(partner_path), case.partner, other)
    return Source(file, case.kind, case.path, partner_path, partner is not None, partner)


def run(case: Case) -> list[Finding]:
    """The findings of the case's own rule."""
    return [f for f in lint_source(source_of(case), case.settings) if f.rule == case.rule]


def matches(findings: list[Finding], expect: tuple[str, ...]) -> bool:
    """Whether the findings are exactly the expected positions (messages containing the text
    given after a position)."""
    if len(findings) != len(expect):
        return False
    remaining = list(findings)
    for entry in expect:
        where, _, text = entry.partition(" ")
        hit = next(
            (f for f in remaining if f"{f.line}:{f.column}" == where and text in f.message),
            None,
        )
        if hit is None:
            return False
        remaining.remove(hit)
    return True


def context(
    text: str, *, kind: Kind = "up", lock_timeout_ms: int = 5000, name: str = ""
) -> FileContext:
    """The lint context of ``text`` as a file of its own (no partner)."""
    file = sql_file(name or f"001_x.{kind}.sql", text, kind)
    return build(Source(file, kind, str(file.path)), lock_timeout_ms)
