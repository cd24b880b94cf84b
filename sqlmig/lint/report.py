"""Render a lint report as text, as the stable JSON document, or as GitHub annotations.

Pure: these return strings and dicts; ``cli`` prints them. Text is one
``path:line:col: RULE slug: message`` line per finding and an indented ``hint:`` line.
GitHub workflow commands map error/warning/info to ``::error``/``::warning``/``::notice``.
"""

from __future__ import annotations

from typing import Final

from sqlmig.lint.engine import LintError, Report
from sqlmig.lint.rule import Finding

_GITHUB_LEVEL: Final = {"error": "error", "warning": "warning", "info": "notice"}


def text(report: Report) -> str:
    lines: list[str] = []
    for f in report.findings:
        lines.append(f"{f.path}:{f.line}:{f.column}: {f.rule} {f.slug}: {f.message}")
        if f.hint:
            lines.append(f"  hint: {f.hint}")
    return "".join(line + "\n" for line in lines)


def where(error: LintError) -> str:
    """``path[:line[:col]]`` of an error, for its one-line message."""
    parts = [error.path, *(str(n) for n in (error.line, error.column) if n is not None)]
    return ":".join(parts)


def summary(report: Report) -> str:
    """One line for stderr: counts by severity."""
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in report.findings:
        counts[f.severity] += 1
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    if not report.findings:
        return f"no lint findings in {files}"
    total = len(report.findings)
    detail = ", ".join(f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in counts.items() if n)
    return f"{total} lint finding{'s' if total != 1 else ''} ({detail}) in {files}"


def json_doc(report: Report) -> dict[str, object]:
    """SPEC 15: ``{"findings": [...], "errors": [{"path", "message"}]}``."""
    return {
        "findings": [
            {
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "rule": f.rule,
                "slug": f.slug,
                "severity": f.severity,
                "message": f.message,
                "hint": f.hint,
            }
            for f in report.findings
        ],
        "errors": [{"path": e.path, "message": e.message} for e in report.errors],
    }


def github(report: Report) -> str:
    lines = [_annotation(f) for f in report.findings]
    for e in report.errors:
        props = _props({"file": e.path, "line": e.line, "col": e.column})
        lines.append(f"::error {props}::{_data(e.message)}")
    return "".join(line + "\n" for line in lines)


def _annotation(f: Finding) -> str:
    props = _props({"file": f.path, "line": f.line, "col": f.column, "title": f"{f.rule} {f.slug}"})
    message = f"{f.message}\nhint: {f.hint}" if f.hint else f.message
    return f"::{_GITHUB_LEVEL[f.severity]} {props}::{_data(message)}"


def _props(values: dict[str, object]) -> str:
    return ",".join(f"{k}={_prop(str(v))}" for k, v in values.items() if v is not None)


def _data(value: str) -> str:
    """Escaping of a workflow command's message (GitHub's toolkit escapeData)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(value: str) -> str:
    """Escaping of a workflow command's property (GitHub's toolkit escapeProperty)."""
    return _data(value).replace(":", "%3A").replace(",", "%2C")
