"""Render result values as text or JSON. Data goes to stdout, messages to stderr.

The JSON shapes are the documented, stable ones (SPEC 15); fields may be added, never renamed.
Colour only on a terminal and never with NO_COLOR.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO, cast

from sqlmig.commands import ChangeResult, RunResult, StatusResult, ValidateResult
from sqlmig.errors import SqlmigError

if TYPE_CHECKING:
    from sqlmig.guard import CheckResult
    from sqlmig.lint.engine import Report
    from sqlmig.roundtrip import RoundTripResult
    from sqlmig.script import Script
    from sqlmig.sql.split import Statement


def use_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _paint(text: str, code: str, on: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if on else text


STATE_COLOUR = {
    "applied": "32",
    "pending": "33",
    "out-of-order": "33",
    "failed": "31",
    "partial": "31",
    "changed": "31",
    "missing-file": "35",
}


class Console:
    """The CLI's voice: stdout for data, stderr for notes; also the executor's Reporter.

    A plain class (as are the other per-run objects): a dataclass costs a millisecond to define,
    on every start."""

    def __init__(
        self,
        fmt: str = "text",
        quiet: bool = False,
        verbose: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.fmt = fmt
        self.quiet = quiet
        self.verbose = verbose
        self.out: TextIO = sys.stdout if out is None else out
        self.err: TextIO = sys.stderr if err is None else err
        self.progress: Any = None  # a db.progress.Progress when stderr is a terminal

    def note(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.err, flush=True)

    def statement_started(self, script: Script, stmt: Statement | None, backend_pid: int) -> None:
        if self.verbose and stmt is not None:
            first = " ".join(stmt.sql.split())[:100]
            print(f"  {script.where(stmt)}: {first}", file=self.err, flush=True)
        if self.progress is not None:
            self.progress.watch(script, stmt, backend_pid)

    def connected(self, dsn: str) -> None:
        if self.progress is None and self.fmt == "text" and not self.quiet and self.err.isatty():
            from sqlmig.db.progress import Progress

            self.progress = Progress(dsn, self.err)

    def statement_finished(self) -> None:
        if self.progress is not None:
            self.progress.stop_watching()

    def error(self, exc: SqlmigError) -> None:
        colour = use_colour(self.err)
        print(f"sqlmig: {_paint('error', '31;1', colour)}: {exc.message}", file=self.err)
        if exc.detail:
            for line in exc.detail.splitlines():
                print(f"  {line}", file=self.err)
        print(f"hint: {exc.hint}", file=self.err, flush=True)

    def data(self, text: str) -> None:
        self.out.write(text if text.endswith("\n") or not text else text + "\n")
        self.out.flush()

    def json(self, doc: object) -> None:
        self.data(json.dumps(doc, indent=2, ensure_ascii=False))


# -- status -----------------------------------------------------------------------------


def status_json(result: StatusResult) -> dict[str, object]:
    return {
        "target": result.target,
        "migrations": [
            {
                "version": e.version,
                "name": e.name,
                "state": e.state,
                "applied_at": e.row.applied_at.isoformat() if e.row else None,
                "execution_ms": e.row.execution_ms if e.row else None,
            }
            for e in result.entries
        ],
        "errors": [{"path": str(p.path), "message": str(p)} for p in result.problems],
    }


def status_text(result: StatusResult, colour: bool) -> str:
    lines = [f"target {result.target} ({result.where})"]
    if not result.entries:
        return lines[0] + "\nno migrations found\n"
    rows = [("VERSION", "NAME", "STATE", "APPLIED AT", "DURATION")]
    for e in result.entries:
        at = e.row.applied_at.strftime("%Y-%m-%d %H:%M:%S") if e.row else "-"
        ms = f"{e.row.execution_ms} ms" if e.row and e.row.execution_ms is not None else "-"
        rows.append((f"{e.version:03d}", e.name, e.state, at, ms))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for i, r in enumerate(rows):
        cells = [c.ljust(w) for c, w in zip(r, widths, strict=True)]
        if i > 0:
            cells[2] = _paint(cells[2], STATE_COLOUR.get(r[2], "0"), colour)
        lines.append("  ".join(cells).rstrip())
    counts: dict[str, int] = {}
    for e in result.entries:
        counts[e.state] = counts.get(e.state, 0) + 1
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
    return "\n".join(lines) + "\n"


# -- up / down --------------------------------------------------------------------------


def run_json(result: RunResult) -> dict[str, object]:
    return {
        "target": result.target,
        "dry_run": result.dry_run,
        "migrations": [
            {
                "version": i.version,
                "name": i.name,
                "direction": i.direction,
                "mode": i.mode,
                "statements": [
                    {"line": s.line, "sql": s.sql, "transactional": s.transactional}
                    for s in i.statements
                ],
                "status": i.status,
                "execution_ms": i.execution_ms,
            }
            for i in result.items
        ],
        "error": result.error.message if result.error else None,
    }


def run_text(result: RunResult) -> str:
    if not result.items:
        return "nothing to do\n"
    if not result.dry_run:
        return ""  # progress lines already went to stderr as each migration finished
    out = []
    for i in result.items:
        out.append(f"{i.direction} {i.version:03d}_{i.name} ({i.mode}):")
        for s in i.statements:
            how = "in transaction" if s.transactional else "alone, autocommit"
            out.append(f"  line {s.line} [{how}]: {_one_line(s.sql)}")
    return "\n".join(out) + "\n"


def run_summary(result: RunResult) -> str:
    """The closing line of a run, for deploy logs: how many, which way, how long."""
    done = [i for i in result.items if i.status in ("applied", "reverted")]
    total = sum(i.execution_ms or 0 for i in done)
    counts = ", ".join(
        f"{n} {status}"
        for status in ("applied", "reverted")
        if (n := sum(i.status == status for i in done))
    )
    return f"{result.target}: {counts} in {total} ms"


def _one_line(sql: str, width: int = 100) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


# -- validate / repair / baseline -------------------------------------------------------


def validate_json(result: ValidateResult) -> dict[str, object]:
    return {
        "target": result.target,
        "problems": [
            {
                "version": p.version,
                "name": p.name,
                "kind": p.kind,
                "message": p.message,
                "diff": p.diff,
            }
            for p in result.problems
        ],
    }


def validate_text(result: ValidateResult) -> str:
    if not result.problems:
        return f"target {result.target}: files and history agree\n"
    out = []
    for p in result.problems:
        out.append(f"{p.version:03d}_{p.name}: {p.kind}: {p.message}")
        if p.diff:
            out.append(p.diff.rstrip("\n"))
    return "\n".join(out) + "\n"


def change_json(result: ChangeResult) -> dict[str, object]:
    return {"target": result.target, "changes": list(result.changes)}


def change_text(result: ChangeResult) -> str:
    return "".join(c + "\n" for c in result.changes) or "nothing to change\n"


def many(docs: Sequence[dict[str, object]], all_targets: bool) -> object:
    """--all-targets prints a list of per-target documents; one target prints the document."""
    return list(docs) if all_targets else docs[0]


# -- check ------------------------------------------------------------------------------


def check_json(
    result: CheckResult, linted: Report | None, history: Sequence[ValidateResult]
) -> dict[str, object]:
    """SPEC 15: lint's ``findings`` and ``errors`` (file-rule problems first), ``immutability``."""
    findings, errors = _lint_json(linted)
    problems: list[object] = [
        {"path": result.relative(p.path), "line": p.line, "message": p.message, "hint": p.hint}
        for p in result.problems
    ]
    doc: dict[str, object] = {
        "ref": result.ref,
        "findings": findings,
        "errors": problems + errors,
        "immutability": [
            {"path": v.path, "reason": v.reason, "new_path": v.new_path, "diff": v.diff}
            for v in result.violations
        ],
    }
    if history:
        doc["history"] = [validate_json(h) for h in history]
    return doc


def _lint_json(linted: Report | None) -> tuple[list[object], list[object]]:
    if linted is None:  # nothing to lint: the linter (and its lexer) is not even imported
        return [], []
    from sqlmig.lint import report

    doc = report.json_doc(linted)
    return cast("list[object]", doc["findings"]), cast("list[object]", doc["errors"])


def _lint_text(linted: Report | None) -> tuple[list[str], str]:
    """Lines for the files lint could not read, and the findings' text."""
    if linted is None:
        return [], ""
    from sqlmig.lint import report

    errors = [f"{report.where(e)}: {e.message}\n  hint: {e.hint}" for e in linted.errors]
    return errors, report.text(linted)


def check_text(
    result: CheckResult, linted: Report | None, history: Sequence[ValidateResult]
) -> str:
    from sqlmig.guard import HINT

    errors, findings = _lint_text(linted)
    out = []
    for v in result.violations:
        if v.reason == "modified":
            out.append(f"{v.path}: modified since {result.ref}")
            out.append(v.diff.rstrip("\n"))
        elif v.reason == "renamed":
            out.append(f"{v.path}: renamed to {v.new_path} (it exists at {result.ref})")
        else:
            out.append(f"{v.path}: deleted (it exists at {result.ref})")
    if result.violations:
        out.append(f"hint: {HINT}")
    for p in result.problems:
        where = result.relative(p.path) + (f":{p.line}" if p.line is not None else "")
        out.append(f"{where}: {p.message}\n  hint: {p.hint}")
    out += errors
    text = ("\n".join(out) + "\n" if out else "") + findings
    return text + "".join(validate_text(h) for h in history if h.problems)


# -- test (round trips) -----------------------------------------------------------------


def test_json(result: RoundTripResult) -> dict[str, object]:
    return {
        "target": result.target,
        "migrations": [
            {
                "version": r.version,
                "name": r.name,
                "ok": r.ok,
                "differences": list(r.differences),
                "skipped": r.skipped,
            }
            for r in result.reports
        ],
        "error": result.error.message if result.error else None,
    }


def test_text(result: RoundTripResult, colour: bool) -> str:
    if not result.reports:
        return "no migrations to test\n"
    out = []
    for r in result.reports:
        if r.skipped:
            out.append(f"{_paint('skip', '33', colour)} {r.label} ({r.skipped})")
        elif r.ok:
            out.append(f"{_paint('ok', '32', colour)}   {r.label}")
        else:
            out.append(f"{_paint('FAIL', '31;1', colour)} {r.label}")
            out.extend(f"  {d}" for d in r.differences)
    failed = sum(not r.ok for r in result.reports)
    skipped = sum(r.skipped is not None for r in result.reports)
    verdict = f"{failed} failed" if failed else "every down reverses its up"
    verdict += f" ({skipped} skipped)" if skipped else ""
    out.append(f"{len(result.reports)} tested in {result.seconds:.1f}s: {verdict}")
    return "\n".join(out) + "\n"
