"""Does sqlmig.split_statements cut real migrations where PostgreSQL does? (evaluation, not test)

Two witnesses, both from a throwaway PostgreSQL server (the distribution's PostgreSQL 15 by
default; ``--bindir`` picks others):

1. psql. It cuts scripts with the server's lexical rules (``psqlscan.l``) and sends each
   statement as one query; ``psql -1 -L LOG -f FILE`` logs every query it sends, whether it
   succeeds or not (``-1`` keeps everything in one transaction, rolled back at the first error).
   Where psql cuts depends on the text only, so the schema being absent does not matter. A
   statement is compared by its significant tokens: psql drops ``--`` comments from what it
   sends and keeps the ``;``.
2. The server's parser. Each statement we cut is executed alone in an empty database, inside a
   transaction that is rolled back, through the extended protocol (which refuses two statements
   in one string). SQLSTATE 42601 (syntax error) means the server could not read our statement
   on its own; any other outcome (a missing table, 25001 for CONCURRENTLY in a transaction)
   comes after parsing. Function bodies are not checked (``check_function_bodies = off``).

A disagreement is printed with both sides; deciding whose it is stays a human's job (psql's
BEGIN ... END heuristic is not the server's grammar, and PostgreSQL 15 lacks newer syntax).

Usage: .venv/bin/python bench/corpus_split_check.py [--corpus DIR] [--bindir DIR]
Never copies corpus files anywhere: it reads them in place (see the corpus README).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
from sqlmig.errors import MigrationFileError
from sqlmig.sql.lexer import tokenize
from sqlmig.sql.split import Statement, split_statements

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-migrations"
BINDIR = Path("/usr/lib/postgresql/15/bin")
PSQL_QUERY = re.compile(r"\*{9} QUERY \*{10}\n(.*?)\n\*{26}\n\n", re.DOTALL)

Tokens = tuple[str, ...]


@dataclass
class Report:
    files: int = 0
    statements: int = 0
    psql_statements: int = 0
    refused: list[str] = field(default_factory=list)
    psql_mismatches: list[str] = field(default_factory=list)
    parse_failures: list[str] = field(default_factory=list)


# -- the throwaway server ------------------------------------------------------------------------


@contextmanager
def server(bindir: Path) -> Iterator[str]:
    """A private cluster on a unix socket in a temporary folder; yields the socket folder."""
    base = Path(tempfile.mkdtemp(prefix="sqlmig-corpus-", dir=_tmpfs()))
    if os.geteuid() == 0:
        shutil.chown(base, "nobody", "nogroup")  # initdb refuses to run as root
    data = base / "data"
    _pg(bindir, base, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-N")
    opts = f"-c listen_addresses='' -c unix_socket_directories={base} -c fsync=off"
    _pg(bindir, base, "pg_ctl", "-D", data, "-o", opts, "-l", base / "log", "-w", "start")
    try:
        yield str(base)
    finally:
        _pg(bindir, base, "pg_ctl", "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def _pg(bindir: Path, base: Path, program: str, *args: str | Path) -> None:
    """Run a server program, as nobody when we are root."""
    owner = "nobody" if os.geteuid() == 0 else None
    subprocess.run(
        [bindir / program, *args], check=True, capture_output=True, cwd=base,
        user=owner, group="nogroup" if owner else None,
    )  # fmt: skip


def _tmpfs() -> str | None:
    return "/dev/shm" if Path("/dev/shm").is_dir() else None


def create_databases(host: str, *names: str) -> None:
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f"CREATE DATABASE {name}")


# -- the witnesses --------------------------------------------------------------------------


def significant(sql: str) -> Tokens:
    """The statement's tokens without whitespace, comments and a final ';'."""
    try:
        tokens = tuple(t.text for t in tokenize(sql) if t.kind not in ("ws", "comment"))
    except MigrationFileError:  # a fragment cut inside a quote: compare it as words
        tokens = tuple(sql.split())
    return tokens[:-1] if tokens[-1:] == (";",) else tokens


def psql_statements(bindir: Path, host: str, path: Path, log: Path) -> list[Tokens]:
    log.unlink(missing_ok=True)
    env = dict(os.environ, PGOPTIONS="-c statement_timeout=5s -c lock_timeout=2s")
    subprocess.run(
        [bindir / "psql", "-X", "-q", "-h", host, "-U", "postgres", "-d", "psql_split", "-1",
         "-v", "ON_ERROR_STOP=0", "-L", log, "-o", os.devnull, "-f", path],
        capture_output=True, env=env, check=False,
    )  # fmt: skip
    queries = PSQL_QUERY.findall(log.read_text(errors="replace")) if log.exists() else []
    return [tokens for tokens in map(significant, queries) if tokens]


def parse_failure(conn: psycopg.Connection[tuple[object, ...]], stmt: Statement) -> str | None:
    """The server's syntax error for ``stmt`` run alone, or None when it parsed."""
    try:
        conn.execute(stmt.sql.encode())  # bytes: no client-side placeholder handling
    except psycopg.errors.SyntaxError as exc:
        return f"{exc.diag.message_primary} (position {exc.diag.statement_position})"
    except psycopg.Error:
        pass  # anything else happens after parsing
    finally:
        conn.rollback()
    return None


# -- one file -------------------------------------------------------------------------------


def read(path: Path) -> str:
    text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_file(path: Path, ctx: Context, report: Report) -> None:
    name = str(path.relative_to(ctx.corpus))
    try:
        ours = split_statements(read(path))
    except MigrationFileError as exc:
        report.refused.append(f"{name}: {exc.message}")
        return
    report.statements += len(ours)
    theirs = psql_statements(ctx.bindir, ctx.host, path, ctx.log)
    report.psql_statements += len(theirs)
    mine = [significant(s.sql) for s in ours]
    if mine != theirs:
        report.psql_mismatches.append(describe_mismatch(name, ours, mine, theirs))
    for stmt in ours:
        if (failure := parse_failure(ctx.conn, stmt)) is not None:
            report.parse_failures.append(f"{name}:{stmt.line}: {failure}\n    {snippet(stmt.sql)}")


def describe_mismatch(
    name: str, ours: list[Statement], mine: list[Tokens], theirs: list[Tokens]
) -> str:
    same = min(len(mine), len(theirs))
    i = next((k for k in range(same) if mine[k] != theirs[k]), same)
    line = ours[i].line if i < len(ours) else "end"
    first_ours = " ".join(mine[i]) if i < len(mine) else "(nothing)"
    first_psql = " ".join(theirs[i]) if i < len(theirs) else "(nothing)"
    return (
        f"{name}: {len(mine)} statements, psql {len(theirs)}; first difference at statement "
        f"{i + 1} (line {line})\n    ours: {snippet(first_ours)}\n    psql: {snippet(first_psql)}"
    )


def snippet(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


@dataclass
class Context:
    corpus: Path
    bindir: Path
    host: str
    log: Path
    conn: psycopg.Connection[tuple[object, ...]]


# -- main -------------------------------------------------------------------------------------


def print_report(report: Report, seconds: float) -> None:
    print(f"files: {report.files}   statements (sqlmig): {report.statements}   "
          f"statements (psql): {report.psql_statements}   {seconds:.1f} s")  # fmt: skip
    sections = (
        ("files sqlmig refused", report.refused),
        ("files where psql cut differently", report.psql_mismatches),
        ("statements the server could not parse alone", report.parse_failures),
    )
    for title, items in sections:
        print(f"\n{title}: {len(items)}")
        for item in items:
            print(f"  {item}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--bindir", type=Path, default=Path(os.environ.get("PG_BINDIR", BINDIR)))
    args = parser.parse_args()
    files = sorted(args.corpus.rglob("*.sql"))
    report = Report(files=len(files))
    began = time.perf_counter()
    with server(args.bindir) as host, tempfile.TemporaryDirectory() as tmp:
        create_databases(host, "psql_split", "parse_check")
        with psycopg.connect(host=host, user="postgres", dbname="parse_check") as conn:
            conn.execute("SET check_function_bodies = off")
            conn.execute("SET statement_timeout = '5s'")
            conn.commit()
            ctx = Context(args.corpus, args.bindir, host, Path(tmp) / "psql.log", conn)
            for path in files:
                check_file(path, ctx, report)
    print_report(report, time.perf_counter() - began)


if __name__ == "__main__":
    main()
