"""``sqlmig test`` against ``sqlmig up`` on the same N migrations (SPEC 14: at most 4x).

Run: ``.venv/bin/python bench/roundtrip_speed.py [N] [--admin-dsn DSN]``. Without a DSN it starts
a throwaway PostgreSQL (the embedded binaries, on tmpfs when there is one) and stops it after.
The migrations are ``bench/generate.py``'s (tables, columns, seeds, triggers, views), as in
``make bench``. Both commands run as whole ``python -m sqlmig`` processes on the same server:
``up`` into a fresh database, ``test`` with ``--admin-dsn`` (its own scratch database). Median
of RUNS; a quicker look at one ratio than the whole ``make bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import generate  # bench/generate.py: this script runs from bench/
import psycopg
from psycopg.conninfo import make_conninfo

from sqlmig.embedded import TEST_SETTINGS, Cluster

RUNS = 3
BUDGET = 4.0


def build(folder: Path, n: int) -> None:
    generate.write_sqlmig(folder, list(generate.migrations(n)))


def timed(project: Path, *args: str) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sqlmig", "--config", str(project / "config.yaml"), "-q", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"sqlmig {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return took


def fresh_database(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0'.encode())
    return make_conninfo(admin, dbname=name)


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path(tempfile.gettempdir())
    folder = Path(tempfile.mkdtemp(prefix="sqlmig-bench-", dir=base))
    folder.chmod(0o755)  # under root the server runs as 'nobody'
    cluster = Cluster(folder / "pgdata", settings=TEST_SETTINGS)
    try:
        cluster.init(no_sync=True)
        cluster.start()
        yield cluster.url()
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)


def measure(admin: str, n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="sqlmig-bench-") as tmp:
        project = Path(tmp)
        build(project / "migrations", n)
        ups, tests = [], []
        for _ in range(RUNS):
            dsn = fresh_database(admin, "sqlmig_bench_up")
            (project / "config.yaml").write_text(f"dsn: '{dsn}'\nmigrations: migrations\n")
            ups.append(timed(project, "up"))
            tests.append(timed(project, "test", "--admin-dsn", admin))
        return statistics.median(ups), statistics.median(tests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100, help="migrations (default 100)")
    parser.add_argument("--admin-dsn", help="server to use (default: a throwaway one)")
    args = parser.parse_args()
    # bytecode written now, as make bench does: with PYTHONDONTWRITEBYTECODE set, every timed
    # process would compile the sources again
    package = Path(__file__).resolve().parent.parent / "sqlmig"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    with contextlib.ExitStack() as stack:
        admin = args.admin_dsn or stack.enter_context(throwaway_server())
        up, test = measure(admin, args.n)
    ratio = test / up
    verdict = "ok" if ratio <= BUDGET else f"OVER BUDGET ({BUDGET:g}x)"
    print(f"{args.n} migrations: up {up:.2f} s, test {test:.2f} s, ratio {ratio:.2f}x: {verdict}")


if __name__ == "__main__":
    main()
