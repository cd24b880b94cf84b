"""Command line: parse arguments, build the Context, call one command, render, exit.

The only module besides ``output`` that prints, and the only one that exits. Global options are
accepted before or after the command (``sqlmig status --format json`` == ``sqlmig --format json
status``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from sqlmig import commands, files, output
from sqlmig._version import __version__
from sqlmig.config import Config, Target, find_config_path, load_config
from sqlmig.errors import MigrationFileError, SqlmigError, UsageError
from sqlmig.output import Console


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (one line + hint) instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}", f"run '{self.prog} --help' for usage")


def _globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Subparsers use SUPPRESS so an option given before the command is not reset after it.
    def d(value: object) -> object:
        return value if top else argparse.SUPPRESS

    g = parser.add_argument_group("global options")
    g.add_argument(
        "--config",
        metavar="PATH",
        default=d(None),
        help="config file (default: ./config.yaml or $SQLMIG_CONFIG)",
    )
    g.add_argument(
        "--target", metavar="NAME", default=d(None), help="which target of the config to use"
    )
    g.add_argument(
        "--all-targets", action="store_true", default=d(False), help="run on every target in order"
    )
    g.add_argument(
        "--format",
        choices=["text", "json", "github"],
        default=d("text"),
        help="output format (github: workflow annotations, lint only)",
    )
    g.add_argument(
        "-q", "--quiet", action="store_true", default=d(False), help="only errors on stderr"
    )
    g.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=d(False),
        help="show each statement as it runs",
    )
    g.add_argument("--debug", action="store_true", default=d(False), help="show tracebacks")


def _lock_wait(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lock-wait",
        type=float,
        default=commands.DEFAULT_LOCK_WAIT_S,
        metavar="SECONDS",
        help="how long to wait for another sqlmig's deploy lock (default 60)",
    )


def _test_parser(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--only", type=int, metavar="V", help="test only version V")
    which.add_argument(
        "--from", type=int, dest="from_version", metavar="V", help="test version V and later"
    )
    p.add_argument(
        "--admin-dsn",
        metavar="DSN",
        help="create the scratch database on this server (superuser or CREATEDB role);"
        " default: the project's embedded PostgreSQL",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sqlmig", description="Raw-SQL migrations for PostgreSQL.")
    parser.add_argument("--version", action="version", version=f"sqlmig {__version__}")
    _globals(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help_: str, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, aliases=list(aliases), description=help_)
        _globals(p, top=False)
        return p

    p = add("new", "create the next NNN_name.up.sql / .down.sql pair")
    p.add_argument("name", help="lower_snake_case name, e.g. add_users_email")
    p.add_argument(
        "--template", type=Path, metavar="PATH", help="SQL file to start the up file from"
    )

    p = add("status", "show every migration and its state")
    p.add_argument("--exit-code", action="store_true", help="exit 1 when anything is pending")

    p = add("up", "apply pending migrations in order", aliases=["migrate"])
    p.add_argument("--to", type=int, metavar="V", help="stop after version V")
    p.add_argument("--step", type=int, metavar="N", help="apply at most N migrations")
    p.add_argument("--dry-run", action="store_true", help="print the plan; execute nothing")
    p.add_argument(
        "--allow-out-of-order",
        action="store_true",
        help="apply pending versions older than the newest applied",
    )
    _lock_wait(p)

    p = add("down", "revert the last applied migration", aliases=["rollback"])
    p.add_argument("--to", type=int, metavar="V", help="revert everything above version V")
    p.add_argument("--step", type=int, metavar="N", help="revert the last N migrations")
    p.add_argument(
        "--all", action="store_true", dest="everything", help="revert every applied migration"
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan; execute nothing")
    _lock_wait(p)

    p = add("redo", "revert the last migration and apply it again")
    p.add_argument("--dry-run", action="store_true", help="print the plan; execute nothing")
    _lock_wait(p)

    p = add("apply", "apply or revert one migration by version or name fragment")
    p.add_argument("migration", help="version number or a unique part of the name")
    p.add_argument("--down", action="store_true", help="revert it instead")
    p.add_argument("--force", action="store_true", help="run it again although it is applied")
    p.add_argument("--dry-run", action="store_true", help="print the plan; execute nothing")
    _lock_wait(p)

    add("validate", "compare files with history; exit 1 on any difference")
    _lock_wait(add("repair", "accept edited applied files and clear failed rows (logged)"))
    p = add("baseline", "mark versions up to V as applied without running them")
    p.add_argument("version", type=int, metavar="V")
    _lock_wait(p)

    p = add("db", "manage the embedded PostgreSQL server")
    p.add_argument("action", choices=["start", "stop", "status", "url"])
    _test_parser(add("test", "prove on a scratch database that every down reverses its up"))
    _check_parser(add("check", "refuse edits to applied migrations; file rules; lint"))
    _lint_parsers(add)
    return parser


def _lint_parsers(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = add("lint", "lint migration files (default: every file of the target)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to lint")
    p.add_argument("--no-cache", action="store_true", help="lint again even unchanged files")
    p = add("explain", "print a lint rule's documentation (no RULE: list the rules)")
    p.add_argument("rule", nargs="?", metavar="RULE", help="rule ID or slug, e.g. LOCK001")


def _check_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="only these files (pre-commit's)")
    p.add_argument(
        "--ref", metavar="REF", help="applied = present at REF (default: origin/main, else main)"
    )
    p.add_argument(
        "--worktree", action="store_true", help="compare the working tree instead of the index"
    )
    p.add_argument(
        "--all", action="store_true", dest="lint_all", help="lint every file, not only new ones"
    )
    p.add_argument("--db", action="store_true", help="also validate against each target's history")


GITHUB_FORMAT_COMMANDS = ("lint",)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    args = build_parser().parse_args(list(argv))
    if args.command is None:
        raise UsageError("no command given", "run 'sqlmig --help' to see the commands")
    if args.all_targets and args.target:
        raise UsageError("--target and --all-targets cannot be used together", "pick one")
    if args.format == "github" and args.command not in GITHUB_FORMAT_COMMANDS:
        raise UsageError(
            f"--format github is not available for {args.command}",
            "use --format text or json; github annotations are for "
            + ", ".join(GITHUB_FORMAT_COMMANDS),
        )
    return args


def _load(args: argparse.Namespace) -> Config:
    cwd = Path.cwd()
    return load_config(find_config_path(args.config, os.environ, cwd), os.environ, cwd)


def _targets(config: Config, args: argparse.Namespace) -> list[Target]:
    if args.all_targets:
        return list(config.targets.values())
    return [config.target(args.target)]


def entry() -> NoReturn:
    """The ``sqlmig`` command (and ``python -m sqlmig``): ``main``, then an immediate exit.

    By the time ``main`` returns, everything sqlmig opened is closed: connections, the deploy
    lock, the child that reads ahead. What is left to the interpreter's own shutdown is freeing
    every module and object, about 30 ms with psycopg loaded, on every command; so the output
    streams are flushed and the process ends at once, with ``main``'s exit code. An exception
    that escapes ``main`` still takes the normal path (traceback, exit 1), and ``main`` itself,
    called from Python, returns normally.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone (| head), or closed
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    console = Console()
    debug = "--debug" in argv
    try:
        args = parse(argv)
        console = Console(fmt=args.format, quiet=args.quiet, verbose=args.verbose)
        return _dispatch(args, console)
    except SqlmigError as exc:
        if debug:
            raise
        console.error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        console.note("sqlmig: interrupted; run 'sqlmig status' to see where things stand")
        return 130


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    if args.command == "explain":
        return _explain(args.rule, console)  # needs no config: works in any folder
    config = _load(args)
    if args.command == "lint":
        return _lint(config, args, console)
    if args.command == "new":
        up_path, down_path = commands.new(
            config, config.target(args.target), args.name, args.template
        )
        console.data(f"{up_path}\n{down_path}")
        return 0
    if args.command == "db":
        return _db(config, args.action, console)
    if args.command == "check":
        return _check(config, args, console)
    return _per_target(config, args, console)


Handler = Callable[
    [commands.Context, argparse.Namespace, Console], tuple[dict[str, object], str, int]
]


def _per_target(config: Config, args: argparse.Namespace, console: Console) -> int:
    handler = HANDLERS[args.command]
    docs: list[dict[str, object]] = []
    code = 0
    for target in _targets(config, args):
        ctx = commands.Context(
            config, target, console, getattr(args, "lock_wait", commands.DEFAULT_LOCK_WAIT_S)
        )
        try:
            doc, text, status = handler(ctx, args, console)
        except SqlmigError:
            if docs and args.format == "json":
                console.json(output.many(docs, True))
            raise
        docs.append(doc)
        code = max(code, status)
        if args.format == "text":
            console.data(text) if text else None
            if status >= 2:
                break
        elif status >= 2:
            break
    if args.format == "json":
        console.json(output.many(docs, args.all_targets))
    return code


def _status(
    ctx: commands.Context, args: argparse.Namespace, console: Console
) -> tuple[dict[str, object], str, int]:
    result = commands.status(ctx)
    pending = any(e.state in ("pending", "out-of-order") for e in result.entries)
    code = 1 if args.exit_code and pending else 0
    text = output.status_text(result, output.use_colour(console.out))
    if result.problems:
        if args.format == "text":
            console.data(text)  # the table first, then what is wrong with the folder
            text = ""
        console.error(files.problems_error(result.problems))
        code = MigrationFileError.exit_code
    return output.status_json(result) if console.fmt == "json" else {}, text, code


def _run(result: commands.RunResult, console: Console) -> tuple[dict[str, object], str, int]:
    # the JSON document only when it is shown: it lists every statement of every migration
    doc = output.run_json(result) if console.fmt == "json" else {}
    if result.error is not None:
        console.error(result.error)
        return doc, output.run_text(result), result.error.exit_code
    if not result.items:
        console.note("nothing to do")
        return doc, "", 0
    if not result.dry_run:
        console.note(output.run_summary(result))
    return doc, output.run_text(result), 0


def _up(
    ctx: commands.Context, args: argparse.Namespace, console: Console
) -> tuple[dict[str, object], str, int]:
    return _run(commands.up(ctx, to=args.to, step=args.step, dry_run=args.dry_run,
                            allow_out_of_order=args.allow_out_of_order), console)  # fmt: skip


def _down(
    ctx: commands.Context, args: argparse.Namespace, console: Console
) -> tuple[dict[str, object], str, int]:
    return _run(
        commands.down(
            ctx, to=args.to, step=args.step, everything=args.everything, dry_run=args.dry_run
        ),
        console,
    )


def _redo(
    ctx: commands.Context, args: argparse.Namespace, console: Console
) -> tuple[dict[str, object], str, int]:
    return _run(commands.redo(ctx, dry_run=args.dry_run), console)


def _apply(
    ctx: commands.Context, args: argparse.Namespace, console: Console
) -> tuple[dict[str, object], str, int]:
    result = commands.apply(
        ctx, args.migration, revert=args.down, force=args.force, dry_run=args.dry_run
    )
    return _run(result, console)


def _validate(
    ctx: commands.Context, args: argparse.Namespace, console: Console
) -> tuple[dict[str, object], str, int]:
    result = commands.validate(ctx)
    return output.validate_json(result), output.validate_text(result), 1 if result.problems else 0


def _repair(
    ctx: commands.Context, args: argparse.Namespace, console: Console
) -> tuple[dict[str, object], str, int]:
    result = commands.repair(ctx)
    return output.change_json(result), output.change_text(result), 0


def _baseline(
    ctx: commands.Context, args: argparse.Namespace, console: Console
) -> tuple[dict[str, object], str, int]:
    result = commands.baseline(ctx, args.version)
    return output.change_json(result), output.change_text(result), 0


def _test(
    ctx: commands.Context, args: argparse.Namespace, console: Console
) -> tuple[dict[str, object], str, int]:
    from sqlmig import roundtrip

    result = roundtrip.verify(
        ctx, admin_dsn=args.admin_dsn, only=args.only, start=args.from_version
    )
    code = 0 if result.ok else 1
    if result.error is not None:
        console.error(result.error)
        code = result.error.exit_code
    text = output.test_text(result, output.use_colour(console.out))
    return output.test_json(result), text, code


HANDLERS: dict[str, Handler] = {
    "status": _status,
    "up": _up,
    "migrate": _up,
    "down": _down,
    "rollback": _down,
    "redo": _redo,
    "apply": _apply,
    "validate": _validate,
    "repair": _repair,
    "baseline": _baseline,
    "test": _test,
}


def _db(config: Config, action: str, console: Console) -> int:
    from sqlmig.embedded import EmbeddedServer

    server = EmbeddedServer(config.root)
    if action == "start":
        console.note("starting the embedded PostgreSQL")
        console.data(server.start())
    elif action == "stop":
        console.note("stopped" if server.stop() else "not running")
    elif action == "url":
        console.data(server.url())
    else:
        st = server.status()
        if console.fmt == "json":
            console.json(
                {
                    "running": st.running,
                    "pid": st.pid,
                    "port": st.port,
                    "data_dir": str(st.data_dir),
                }
            )
        else:
            state = f"running (pid {st.pid})" if st.running else "stopped"
            console.data(f"embedded PostgreSQL: {state}, port {st.port}, data in {st.data_dir}")
    return 0


def _check(config: Config, args: argparse.Namespace, console: Console) -> int:
    """``check`` loads no database module unless ``--db`` asks (it runs on every commit)."""
    from sqlmig import guard

    targets = [config.target(args.target)] if args.target else list(config.targets.values())
    options = guard.Options(args.ref, args.worktree, tuple(args.paths) or None, args.lint_all)
    result = guard.check(config, targets, options, Path.cwd())
    linted = guard.lint_step(config, result.to_lint, result.top) if result.to_lint else None
    for warning in linted.warnings if linted else ():
        console.note(f"sqlmig: warning: {warning}")
    history = [_history(config, t, console) for t in targets] if args.db else []
    validated = [h for h in history if h is not None]
    if args.format == "json":
        console.json(output.check_json(result, linted, validated))
    else:
        console.data(output.check_text(result, linted, validated))
    failed = result.violations or result.problems or any(v.problems for v in validated)
    if not failed and not (linted and linted.exit_code):
        console.note(f"sqlmig check: no problems (applied migrations: those at {result.ref})")
        return 0
    return 1  # lint's "could not lint" too: a broken file is a finding of the gate


def _history(config: Config, target: Target, console: Console) -> commands.ValidateResult | None:
    """``check --db``: compare with the target's history when its database answers."""
    from sqlmig.errors import DatabaseError, EmbeddedServerError, MigrationFileError

    try:
        return commands.validate(commands.Context(config, target, console))
    except (DatabaseError, EmbeddedServerError, MigrationFileError) as exc:
        console.note(f"target {target.name}: history not checked: {exc.message}")
        return None


def _lint(config: Config, args: argparse.Namespace, console: Console) -> int:
    """``lint`` loads no database module: it runs in pre-commit hooks."""
    from sqlmig.errors import MigrationFileError
    from sqlmig.lint import report, run

    folders = [] if args.paths else [t.migrations for t in _targets(config, args)]
    paths = [Path(p) for p in args.paths]
    result = run.lint(config, paths, folders, Path.cwd(), use_cache=not args.no_cache)
    for warning in result.warnings:
        console.note(f"sqlmig: warning: {warning}")
    if args.format == "json":
        console.json(report.json_doc(result))
    elif args.format == "github":
        console.data(report.github(result))
    else:
        console.data(report.text(result))
        for e in result.errors:
            console.error(MigrationFileError(f"{report.where(e)}: {e.message}", e.hint))
        console.note(report.summary(result))
    return result.exit_code


def _explain(rule: str | None, console: Console) -> int:
    from sqlmig.lint import explain

    if console.fmt == "json":
        console.json(explain.as_json(rule))
    else:
        console.data(explain.as_text(rule))
    return 0
