"""``make bench`` / ``make bench-quick``: sqlmig against its peers on one server, in one run.

Starts one PostgreSQL (``bench/server.py``), generates the migrations (``bench/generate.py``),
times whole processes (median of several runs, each on a fresh database), checks the figures
against the budget of SPEC section 14 and writes a Markdown report (``BENCHMARKS.md`` for the
full run). ``--quick`` uses smaller sizes and fewer runs: a smoke test of the harness and of the
budget lines that do not depend on size.

Run: ``.venv/bin/python bench/run.py [--quick] [--output PATH]``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # children keep their .pyc, as a user's would

import check_speed  # noqa: E402
import generate  # noqa: E402
import report  # noqa: E402
import server  # noqa: E402
import split_speed  # noqa: E402
import sqlparse  # noqa: E402
from report import Budget, Row  # noqa: E402

from sqlmig.embedded import wheel_bindir  # noqa: E402

PY = sys.executable
VENV_BIN = Path(PY).parent
SQLMIG = str(VENV_BIN / "sqlmig")  # the console script pip installs: what users run


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    sizes: tuple[int, ...]  # migrations applied and reverted
    runs: int  # most measurements of sqlmig
    apply_runs: int  # apply (and revert) of sqlmig, psql and the psycopg loop; dbmate's apply
    peer_runs: int  # yoyo, and dbmate's revert (slow: yoyo, and dbmate's one process per step)
    applied: int  # status / up no-op on this many applied migrations
    check_pairs: int
    split_mib: float
    lint_statements: int
    test_n: int
    big_mib: int


FULL = Profile("full", (100, 1000), 5, 9, 3, 1000, 1000, 5.0, 5000, 100, 50)
QUICK = Profile("quick", (100,), 3, 3, 3, 1000, 1000, 0.25, 1000, 20, 5)


class Failed(Exception):
    """A benchmarked command failed: its output is in the message."""


def run(argv: Sequence[str], *, cwd: Path | None = None, ok: Sequence[int] = (0,)) -> float:
    """Wall time of one whole process."""
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - began
    if done.returncode not in ok:
        cmd = shlex.join(str(a) for a in argv)
        raise Failed(f"{cmd} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return took


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


@dataclass
class Tool:
    """How one tool applies and reverts a generated set; ``up``/``down`` return argv lists."""

    name: str
    up: Callable[[str], list[str]]
    down: Callable[[str], list[str]]
    runs: int
    shown_up: str
    shown_down: str
    reverts: int | None = None  # revert measured in the first runs only (None: in every run)

    def reverting(self, round_: int) -> bool:
        return self.reverts is None or round_ < self.reverts


@dataclass
class Bench:
    srv: server.Server
    work: Path
    profile: Profile
    rows: list[Row] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)
    commands: dict[str, str] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)  # 1-minute load average at each note

    def note(self, message: str) -> None:
        load = os.getloadavg()[0]
        self.loads.append(load)
        print(
            f"[{time.strftime('%H:%M:%S')}] (load {load:.1f}) {message}",
            file=sys.stderr,
            flush=True,
        )

    # -- tools ------------------------------------------------------------------------------

    def sqlmig_config(self, layouts: generate.Layouts, db: str) -> Path:
        cfg = layouts.root / f"sqlmig-{db}.yaml"
        cfg.write_text(f"dsn: '{self.srv.url(db)}'\nmigrations: '{layouts.sqlmig}'\n")
        return cfg

    def tools(self, layouts: generate.Layouts) -> list[Tool]:
        srv, n, p = self.srv, layouts.n, self.profile
        psql = str(wheel_bindir() / "psql")
        dbmate = [str(VENV_BIN / "dbmate"), "--migrations-dir", str(layouts.dbmate)]
        dbmate += ["--no-dump-schema", "--url"]
        yoyo = [str(VENV_BIN / "yoyo"), "--no-config-file"]

        def sqlmig(verb: str) -> Callable[[str], list[str]]:
            extra = ["--all"] if verb == "down" else []
            return lambda db: [
                SQLMIG,
                "--config",
                str(self.sqlmig_config(layouts, db)),
                verb,
                *extra,
            ]

        def rollbacks(db: str) -> list[str]:
            one = shlex.join([*dbmate, f"{srv.url(db)}?sslmode=disable", "rollback"])
            return ["bash", "-c", f"for i in $(seq {n}); do {one} >/dev/null || exit 1; done"]

        def yoyo_url(db: str) -> str:
            return srv.url(db, "postgresql+psycopg")

        def psql_file(path: Path) -> Callable[[str], list[str]]:
            return lambda db: [
                psql,
                "-X",
                "-q",
                "-1",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                srv.url(db),
                "-f",
                str(path),
            ]

        def loop(verb: str) -> Callable[[str], list[str]]:
            return lambda db: [PY, str(BENCH / "loop.py"), verb, srv.url(db), str(layouts.sqlmig)]

        return [
            Tool(
                "sqlmig",
                sqlmig("up"),
                sqlmig("down"),
                p.apply_runs,
                "sqlmig --config C up",
                "sqlmig --config C down --all",
            ),
            Tool(
                "dbmate",
                lambda db: [*dbmate, f"{srv.url(db)}?sslmode=disable", "migrate"],
                rollbacks,
                p.apply_runs,
                "dbmate --migrations-dir D --no-dump-schema --url URL migrate",
                "for i in $(seq N); do dbmate ... rollback; done  (one migration per call)",
                reverts=p.peer_runs,
            ),
            Tool(
                "yoyo",
                lambda db: [
                    *yoyo,
                    "apply",
                    "--batch",
                    "--database",
                    yoyo_url(db),
                    str(layouts.yoyo),
                ],
                lambda db: [
                    *yoyo,
                    "rollback",
                    "--batch",
                    "--all",
                    "--database",
                    yoyo_url(db),
                    str(layouts.yoyo),
                ],
                p.peer_runs,
                "yoyo --no-config-file apply --batch --database postgresql+psycopg://URL D",
                "yoyo --no-config-file rollback --batch --all --database ... D",
            ),
            Tool(
                "psql -1 -f",
                psql_file(layouts.all_up),
                psql_file(layouts.all_down),
                p.apply_runs,
                f"{psql} -X -q -1 -v ON_ERROR_STOP=1 -d URL -f all.up.sql",
                "... -f all.down.sql (every down, newest first)",
            ),
            Tool(
                "psycopg loop",
                loop("up"),
                loop("down"),
                p.apply_runs,
                "python bench/loop.py up URL D",
                "python bench/loop.py down URL D",
            ),
        ]

    # -- measurements -----------------------------------------------------------------------

    def apply_revert(self) -> None:
        """Round after round, every tool once per round (while it has runs left): a change of
        the machine's load during the run then weighs on every tool alike."""
        for n in self.profile.sizes:
            layouts = generate.write_all(self.work / f"set-{n}", n)
            tools = self.tools(layouts)
            ups: dict[str, list[float]] = {t.name: [] for t in tools}
            downs: dict[str, list[float]] = {t.name: [] for t in tools}
            for round_ in range(max(t.runs for t in tools)):
                for tool in (t for t in tools if t.runs > round_):
                    self.srv.settle()  # the previous tool's dropped database is not its burden
                    with self.srv.database() as db:
                        ups[tool.name].append(run(tool.up(db)))
                        if tool.reverting(round_):
                            downs[tool.name].append(run(tool.down(db)))
                done = ", ".join(
                    f"{t.name} {ups[t.name][-1]:.2f} s" for t in tools if t.runs > round_
                )
                self.note(f"{n} migrations, round {round_ + 1}: {done}")
            for tool in tools:
                self.rows.append(Row(f"apply {n:,}", tool.name, ups[tool.name]))
                self.rows.append(Row(f"revert {n:,}", tool.name, downs[tool.name]))
                self.commands[f"{tool.name} apply"] = tool.shown_up
                self.commands[f"{tool.name} revert"] = tool.shown_down
            self._apply_budgets(n)

    def _apply_budgets(self, n: int) -> None:
        if n < 1000:  # SPEC 14 speaks of 1,000 migrations; the quick run has fewer
            return
        what = f"apply {n:,}"
        ours = self._median(what, "sqlmig")
        fastest = min(("dbmate", "yoyo"), key=lambda tool: self._median(what, tool))
        peer = self._median(what, fastest)
        loop = self._median(what, "psycopg loop")
        self.budgets.append(
            Budget(
                f"{what}: no slower than the fastest peer",
                ours / peer,
                1.0,
                "x",
                f"{ours:.2f} s vs {peer:.2f} s ({fastest}); {self._paired(what, fastest)}",
                strict=False,
            )
        )
        self.budgets.append(
            Budget(
                f"{what}: within 1.5x of the psycopg loop",
                ours / loop,
                1.5,
                "x",
                f"{ours:.2f} s vs {loop:.2f} s",
                strict=False,
            )
        )

    def _median(self, what: str, tool: str) -> float:
        return next(median(r.times) for r in self.rows if r.what == what and r.tool == tool)

    def _paired(self, what: str, peer: str) -> str:
        """The median of the ratios run by run (each round runs both tools back to back), for
        context: a machine that drifts during the run moves both of a round alike."""
        ours = next(r.times for r in self.rows if r.what == what and r.tool == "sqlmig")
        theirs = next(r.times for r in self.rows if r.what == what and r.tool == peer)
        ratios = [a / b for a, b in zip(ours, theirs, strict=False)]
        spread = f"{min(ratios):.2f}x-{max(ratios):.2f}x"
        return f"round by round: median {median(ratios):.2f}x, {spread}"

    def idle(self) -> None:
        """``status`` and a no-op ``up`` on ``applied`` applied migrations."""
        n = self.profile.applied
        layouts = generate.write_all(self.work / f"idle-{n}", n)
        with self.srv.database() as db:
            cfg = self.sqlmig_config(layouts, db)
            run([SQLMIG, "--config", str(cfg), "up"])
            self.srv.settle(db)
            for verb in ("status", "up"):
                argv = [SQLMIG, "--config", str(cfg), verb]
                # short commands: more runs, so that one slow moment of the machine moves the
                # median less
                times = [run(argv) for _ in range(3 * self.profile.runs)]
                label = f"{verb} on {n:,} applied" + (" (nothing to do)" if verb == "up" else "")
                self.rows.append(Row(label, "sqlmig", times))
                self.budgets.append(Budget(f"sqlmig {label}", median(times), 0.3, "s"))
                self.commands[f"sqlmig {verb} (idle)"] = f"sqlmig --config C {verb}"
        self.note(f"idle: {self.rows[-2].median:.3f} s status, {self.rows[-1].median:.3f} s up")

    def check(self) -> None:
        """``check`` as pre-commit runs it, through bench/check_speed.py's repository."""
        pairs = self.profile.check_pairs
        check_speed.RUNS = 3 * self.profile.runs
        self.srv.settle()  # no database here, but the server's background work takes a core
        repo = self.work / "check-repo"
        changed = check_speed.build(repo, pairs)
        for label, args in (
            (f"check, 1 edited of {pairs:,} (pre-commit)", [changed]),
            (f"check, {pairs:,} pairs, no paths (CI)", []),
        ):
            times = check_speed.timed(repo, *args)
            self.rows.append(Row(label, "sqlmig", times))
            self.budgets.append(Budget(f"sqlmig {label}", median(times), 0.2, "s"))
        self.commands["sqlmig check"] = "cd REPO && sqlmig check migrations/0500_table_500.up.sql"
        self.note(f"check: {self.rows[-2].median:.3f} s")

    def split(self) -> None:
        from sqlmig.sql.split import split_statements

        split_speed.RUNS = 3
        text = split_speed.corpus(self.profile.split_mib)
        ours = [split_speed.median_seconds(split_statements, text)]
        theirs = [split_speed.median_seconds(sqlparse.split, text)]
        mib = self.profile.split_mib
        self.rows.append(Row(f"split {mib:g} MiB (median of 3, in process)", "sqlmig", ours))
        self.rows.append(Row(f"split {mib:g} MiB (median of 3, in process)", "sqlparse", theirs))
        self.budgets.append(
            Budget(
                f"split {mib:g} MiB: at least 5x faster than sqlparse.split",
                median(theirs) / median(ours),
                5.0,
                "x faster",
                min_=True,
                indicative=mib < FULL.split_mib,
            )
        )
        self.commands["split"] = "python bench/split_speed.py (split_statements vs sqlparse.split)"
        self.note(f"split: {median(ours):.3f} s vs sqlparse {median(theirs):.3f} s")

    def lint(self) -> None:
        n = self.profile.lint_statements
        folder = self.work / "lint" / "migrations"
        path = lint_file(folder, n)
        project = folder.parent
        (project / "config.yaml").write_text("migrations: migrations\n")
        sqlmig = [SQLMIG, "lint", str(path)]
        if not available([*sqlmig[:4], "--help"], project):
            self.note("sqlmig lint is not available: lint not measured")
            return
        cache = project / ".sqlmig"
        cold, cached = [], []
        for _ in range(self.profile.runs):
            shutil.rmtree(cache, ignore_errors=True)
            cold.append(run(sqlmig, cwd=project, ok=(0, 1)))
            cached.append(run(sqlmig, cwd=project, ok=(0, 1)))
        squawk = [str(VENV_BIN / "squawk"), str(path)]
        theirs = [run(squawk, cwd=project, ok=(0, 1)) for _ in range(self.profile.runs)]
        what = f"lint a {n:,}-statement file"
        self.rows += [
            Row(f"{what}, cold", "sqlmig", cold),
            Row(f"{what}, cached", "sqlmig", cached),
            Row(what, "squawk", theirs),
        ]
        self.budgets.append(
            Budget(
                f"{what}, cold: within 5x of squawk",
                median(cold) / median(theirs),
                5.0,
                "x",
                strict=False,
                indicative=n < FULL.lint_statements,
            )
        )
        self.budgets.append(
            Budget(
                f"{what}, cached: faster than squawk",
                median(cached) / median(theirs),
                1.0,
                "x",
                indicative=n < FULL.lint_statements,
            )
        )
        self.commands["sqlmig lint"] = "sqlmig lint FILE (cold: no .sqlmig/cache; then cached)"
        self.commands["squawk"] = "squawk FILE"
        self.note(
            f"lint: cold {median(cold):.2f} s, cached {median(cached):.2f} s, "
            f"squawk {median(theirs):.2f} s"
        )

    def roundtrip(self) -> None:
        n = self.profile.test_n
        layouts = generate.write_all(self.work / f"test-{n}", n)
        with self.srv.database() as db:
            cfg = self.sqlmig_config(layouts, db)
            base = [SQLMIG, "--config", str(cfg)]
            if not available([*base, "test", "--help"], layouts.root):
                self.note("sqlmig test is not available: round trip not measured")
                return
            test = [*base, "test", "--admin-dsn", self.srv.url("postgres")]
            tests = [run(test) for _ in range(self.profile.runs)]
        ups = []
        for _ in range(self.profile.runs):
            with self.srv.database() as db:
                ups.append(run([SQLMIG, "--config", str(self.sqlmig_config(layouts, db)), "up"]))
        self.rows += [
            Row(f"test {n:,} migrations", "sqlmig", tests),
            Row(f"up {n:,} migrations", "sqlmig", ups),
        ]
        self.budgets.append(
            Budget(
                f"sqlmig test on {n:,}: at most 4x up",
                median(tests) / median(ups),
                4.0,
                "x",
                strict=False,
                indicative=n < FULL.test_n,
            )
        )
        self.commands["sqlmig test"] = "sqlmig --config C test --admin-dsn URL"
        self.note(f"test: {median(tests):.2f} s vs up {median(ups):.2f} s")

    def memory(self) -> None:
        mib = self.profile.big_mib
        folder = self.work / "big" / "migrations"
        folder.mkdir(parents=True)
        size, down = generate.big_file(folder / "0001_big_seed.up.sql", mib * 1024 * 1024)
        (folder / "0001_big_seed.down.sql").write_text(down)
        peaks, times = [], []
        for _ in range(3):
            with self.srv.database() as db:
                cfg = folder.parent / "config.yaml"
                cfg.write_text(f"dsn: '{self.srv.url(db)}'\nmigrations: migrations\n")
                took, rss = peak_rss([SQLMIG, "--config", str(cfg), "up"])
                peaks.append(rss)
                times.append(took)
        worst = max(peaks)
        self.rows.append(Row(f"up one {mib} MiB file", "sqlmig", times))
        self.rows.append(
            Row(
                f"peak RSS applying {mib} MiB (MiB, max of 3)",
                "sqlmig",
                [worst / 2**20],
                unit="MiB",
            )
        )
        self.budgets.append(
            Budget(
                f"peak RSS applying a {mib} MiB file: under 4x its size",
                worst / size,
                4.0,
                "x",
                f"{worst / 2**20:.0f} MiB",
                indicative=mib < FULL.big_mib,  # the interpreter's own ~40 MiB weighs more
            )
        )
        self.commands["memory"] = "sqlmig --config C up (child's ru_maxrss via os.wait4)"
        self.note(f"memory: {worst / 2**20:.0f} MiB peak for {size / 2**20:.0f} MiB")


def lint_file(folder: Path, statements: int) -> Path:
    """One up file of ``statements`` statements (the generated migrations' SQL), with its down."""
    from sqlmig.sql.split import split_statements

    folder.mkdir(parents=True)
    parts: list[str] = []
    count = 0
    for m in generate.migrations(statements):  # more than enough
        parts.append(m.up)
        count += len(split_statements(m.up))
        if count >= statements:
            break
    path = folder / "0001_many_statements.up.sql"
    path.write_text("".join(parts))
    (folder / "0001_many_statements.down.sql").write_text("SELECT 1;\n")
    return path


def available(argv: Sequence[str], cwd: Path) -> bool:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    return done.returncode == 0


def peak_rss(argv: Sequence[str]) -> tuple[float, int]:
    """Wall time and peak RSS in bytes of one child (``os.wait4``: that child's rusage only)."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise Failed(f"{shlex.join(argv)} exited {proc.returncode}: {err[-3000:]}")
    return took, usage.ru_maxrss * 1024  # kilobytes on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    parser.add_argument("--output", type=Path, help="write the Markdown report here")
    parser.add_argument("--only", nargs="*", default=None, help="measure only these sections")
    args = parser.parse_args()
    profile = QUICK if args.quick else FULL
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "sqlmig")], check=True)
    began = time.perf_counter()
    machine = report.machine()
    with server.running() as srv, tempfile.TemporaryDirectory(prefix="sqlmig-bench-") as tmp:
        bench = Bench(srv, Path(tmp), profile)
        steps = (
            bench.apply_revert,
            bench.idle,
            bench.check,
            bench.split,
            bench.lint,
            bench.roundtrip,
            bench.memory,
        )
        for step in steps:
            if args.only is None or step.__name__ in args.only:
                step()
        versions = report.versions(srv.version())
    if bench.loads:
        machine["1-minute load average during the run"] = (
            f"{min(bench.loads):.1f} to {max(bench.loads):.1f} (other jobs share the machine: "
            "figures taken under a higher load are slower)"
        )
    elapsed = time.perf_counter() - began
    text = report.render(
        profile.name, bench.rows, bench.budgets, bench.commands, versions, machine, elapsed
    )
    print(text)
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(1)
    except (KeyboardInterrupt, server.Stopped):
        print("bench: interrupted; the server was stopped", file=sys.stderr)
        sys.exit(130)
