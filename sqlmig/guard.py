"""Immutability guard (SPEC 8): migration files that exist at a git ref must never change.

Pure functions over git's output plus a small ``git`` runner; ``check`` ties them together.
Decisions (SPEC 8 leaves them open):

- The ref is ``--ref``, else ``immutable_ref``, else ``origin/main``, else ``main``. A ref that
  does not exist is an error (exit 2) naming it: comparing with nothing would pass everything.
  Only before a repository's first commit is nothing applied (the hook must let it be made).
- Content is compared after ``checksum.decode`` (BOM, CRLF), like the checksums in history, so
  a ``core.autocrlf=true`` checkout is no false alarm; git's blob ids are compared first.
- A file is identified by its path in the repository. A path present at the ref and gone now is
  ``renamed`` when git's rename detection (``-M``) pairs it with a new path, or when a new path
  carries the same version, name and kind (``1_a.up.sql`` -> ``001_a.up.sql``); else ``deleted``.
- ``PATHS`` (pre-commit passes the staged files) narrows what is reported: modifications and
  lint to those paths, file-rule problems to those paths and the migrations sharing their
  version (so a clash with an existing version is still seen). Deletions and renames are always
  computed from git, because pre-commit never passes deleted files. ``--all`` scans and lints
  every file whatever the paths.
- The index is compared by default (what a commit records); ``worktree`` compares the working
  tree, untracked files included. File rules and lint read the working tree (pre-commit stashes
  unstaged changes first); in index mode, problems of files git does not track (untracked or
  ignored: they are not being committed) are not reported.
- A migrations folder that does not exist is empty (git keeps no empty folders).
- Lint runs on the migration files that are not at the ref: new ones, and ones added since
  and edited (they may change). An applied file that was modified or renamed is not linted:
  it fails the check anyway and must be restored, so its findings would only be noise (and
  loading the linter costs tens of milliseconds on every such commit).
- File-rule problems and files lint cannot read are findings of the gate (exit 1, SPEC 8), not
  "could not run" (exit 2): listing them is what ``check`` is for. Exit 2 means ``check`` could
  not run at all (not a git repository, unknown ref, configuration or usage error).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from sqlmig import checksum, files
from sqlmig.config import Config, Target
from sqlmig.errors import MigrationFileError, SqlmigError
from sqlmig.files import FILENAME_RE, FileProblem, Migration
from sqlmig.plan import unified_diff

if TYPE_CHECKING:
    from sqlmig.lint.engine import Report

Reason = Literal["modified", "deleted", "renamed"]

DEFAULT_REFS: Final = ("origin/main", "main")
HINT: Final = "applied migrations are immutable; write a new migration instead"
NO_COMMIT: Final = "(no commit yet)"

_VERSION_RE: Final = re.compile(r"([0-9]+)_")


class GitError(SqlmigError):
    """git is missing, the folder is not in a repository, a ref does not exist, git failed."""

    exit_code = 2
    default_hint = "run 'sqlmig check' inside the git repository that holds the migrations"


@dataclass(frozen=True, slots=True)
class Violation:
    """A migration file present at the ref that is modified, deleted or renamed."""

    path: str  # relative to the repository, as at the ref
    reason: Reason
    new_path: str | None = None  # where a renamed file went
    diff: str = ""


@dataclass(frozen=True, slots=True)
class Options:
    """``paths`` None means everything; else only these files (relative to ``cwd``)."""

    ref: str | None = None
    worktree: bool = False
    paths: tuple[str, ...] | None = None
    lint_all: bool = False


@dataclass(frozen=True, slots=True)
class CheckResult:
    ref: str
    top: Path  # the repository's top folder; reported paths are relative to it
    violations: tuple[Violation, ...]
    problems: tuple[FileProblem, ...]
    to_lint: tuple[Path, ...]  # migration files not at the ref (every one with lint_all)

    def relative(self, path: Path) -> str:
        return _relative(path, self.top) or str(path)


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of ``git diff --raw``: status letter, blob ids, paths (relative to top)."""

    status: str
    old_blob: str
    new_blob: str
    old_path: str
    new_path: str


# ---------------------------------------------------------------------------------------------
# git


def git(top: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run ``git -C top args`` and return stdout; a failure raises GitError with git's words."""
    argv = ["git", "-C", str(top), "--literal-pathspecs", "-c", "core.quotepath=off", *args]
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed", "install git: 'sqlmig check' asks it") from None
    if done.returncode != 0:
        said = os.fsdecode(done.stderr).strip().splitlines()
        raise GitError(f"git {args[0]} failed: {said[-1] if said else done.returncode}")
    return done.stdout


def repo_top(start: Path) -> Path:
    """The top folder of the repository (or linked worktree) holding ``start``."""
    try:
        out = git(start, "rev-parse", "--show-toplevel")
    except GitError:
        raise GitError(
            f"{start} is not inside a git repository",
            "'sqlmig check' compares with git history: run it in the project's repository",
        ) from None
    return Path(os.fsdecode(out.rstrip(b"\n")))


def resolve_ref(top: Path, ref: str | None) -> tuple[str, str]:
    """(name, revision) to compare with: ``ref`` if it names a commit, else the first of
    DEFAULT_REFS that exists, else, in a repository without any commit, the empty tree."""
    for candidate in (ref,) if ref else DEFAULT_REFS:
        if _is_commit(top, candidate):
            return candidate, candidate
    if ref:
        raise GitError(
            f"git ref {ref!r} does not exist in {top}",
            f"fetch it (git fetch origin {ref.removeprefix('origin/')}) or pass another --ref",
        )
    if not _is_commit(top, "HEAD"):  # the first commit: nothing can be applied yet
        empty = git(top, "hash-object", "-t", "tree", "--stdin", stdin=b"")
        return NO_COMMIT, empty.decode("ascii").strip()
    raise GitError(
        f"neither origin/main nor main exists in {top}: nothing to compare migrations with",
        "git fetch origin main, or set immutable_ref in the config, or pass --ref",
    )


def _is_commit(top: Path, rev: str) -> bool:
    try:
        git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    except GitError:
        return False
    return True


def diff_changes(top: Path, rev: str, specs: Sequence[str], worktree: bool) -> list[Change]:
    """Changes between ``rev`` and the index (or working tree) under ``specs``, renames found."""
    cached = () if worktree else ("--cached",)
    out = git(
        top, "diff", *cached, "--raw", "-z", "-M", "--no-abbrev", "--no-color", "--no-ext-diff",
        "--ignore-submodules", rev, "--", *specs,
    )  # fmt: skip
    return parse_raw(out)


def parse_raw(out: bytes) -> list[Change]:
    """Parse ``git diff --raw -z``: ``:mode mode blob blob STATUS\\0path\\0[path\\0]``."""
    fields = out.split(b"\0")
    changes, i = [], 0
    while i < len(fields) and fields[i].startswith(b":"):
        _, _, old_blob, new_blob, status = fields[i][1:].decode("ascii").split(" ")
        old = os.fsdecode(fields[i + 1])
        two = status[0] in "RC"
        new = os.fsdecode(fields[i + 2]) if two else old
        changes.append(Change(status[0], old_blob, new_blob, old, new))
        i += 3 if two else 2
    return changes


def other_files(top: Path, specs: Sequence[str], *, ignored: bool) -> set[str]:
    """Files git does not track under ``specs``: untracked ones, and ignored ones if asked."""
    exclude = () if ignored else ("--exclude-standard",)
    out = git(top, "ls-files", "--others", "-z", *exclude, "--", *specs)
    return {os.fsdecode(name) for name in out.split(b"\0") if name}


def read_blobs(top: Path, blobs: Iterable[str]) -> dict[str, bytes]:
    """Contents of many blobs from one ``git cat-file --batch``."""
    wanted = sorted(set(blobs))
    if not wanted:
        return {}
    out = git(top, "cat-file", "--batch", stdin="".join(b + "\n" for b in wanted).encode())
    contents, pos = {}, 0
    for blob in wanted:
        eol = out.index(b"\n", pos)
        header = out[pos:eol].split(b" ")
        if len(header) != 3:  # "<blob> missing": a shallow clone without the ref's objects
            raise GitError(
                f"git has no object {blob}: the ref was not fetched completely",
                "fetch the ref (git fetch origin main) before 'sqlmig check'",
            )
        size = int(header[2])
        contents[blob] = out[eol + 1 : eol + 1 + size]
        pos = eol + 1 + size + 1
    return contents


# ---------------------------------------------------------------------------------------------
# Pure parts


def text_of(raw: bytes, path: str) -> str:
    """Normalised text as the checksum sees it; invalid UTF-8 is replaced (scan reports it)."""
    try:
        return checksum.decode(raw, Path(path))
    except MigrationFileError:
        return checksum.decode(raw.decode("utf-8", "replace").encode("utf-8"), Path(path))


def migration_key(path: str) -> tuple[int, str, str] | None:
    """(version, name, kind) of a migration file name, None for any other name."""
    match = FILENAME_RE.fullmatch(path.rpartition("/")[2])
    return None if match is None else (int(match[1]), match[2], match[3])


def version_of(path: str) -> int | None:
    """The version prefix of a file name, also of a misnamed one (``007_X.sql``)."""
    match = _VERSION_RE.match(path.rpartition("/")[2])
    return None if match is None else int(match[1])


def renamed_to(deleted: str, added: Iterable[str]) -> str | None:
    """The added path that carries the deleted file's version, name and kind, if any."""
    key = migration_key(deleted)
    if key is None:
        return None
    return next((path for path in sorted(added) if migration_key(path) == key), None)


def in_scope(path: str, given: frozenset[str] | None) -> bool:
    return given is None or path in given


def scan_filter(folder: str, given: frozenset[str]) -> Callable[[str], bool] | None:
    """Which entries of ``folder`` to scan for ``given``: the given files and every file of
    their versions (so a clash with an existing version is seen); None when none is given."""
    folder = "" if folder == "." else folder  # the repository's top folder itself
    names = {name for parent, _, name in (g.rpartition("/") for g in given) if parent == folder}
    if not names:
        return None
    versions = {version_of(name) for name in names} - {None}
    return lambda name: name in names or version_of(name) in versions


def _relative(path: Path, top: Path) -> str | None:
    """``path`` relative to ``top`` in git's form (``a/b``), None when outside."""
    try:
        return Path(os.path.realpath(path)).relative_to(top).as_posix()
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# The check


@dataclass(frozen=True, slots=True)
class _Repo:
    """Where to look: the repository, the ref, the migrations folders as git pathspecs."""

    top: Path
    ref: str  # as the user knows it
    rev: str  # what git compares with: the ref, or the empty tree before the first commit
    specs: tuple[str, ...]
    worktree: bool


def check(config: Config, targets: Sequence[Target], options: Options, cwd: Path) -> CheckResult:
    """Compare the migrations folders of ``targets`` with the ref; scan them for file rules."""
    repo = _open(config, targets, options)
    given = _given(options.paths, cwd, repo.top)
    changes = diff_changes(repo.top, repo.rev, repo.specs, repo.worktree)
    added = {c.new_path for c in changes if c.status in "AR"}
    if repo.worktree:
        added |= other_files(repo.top, repo.specs, ignored=False)
    violations = _compare(repo, changes, added, given)
    scans = list(_scans(repo, targets, None if options.lint_all else given))
    problems = _problems(repo, [p for s in scans for p in s.problems])
    if options.lint_all:
        to_lint = [path for s in scans for m in s.migrations for path in _paths(m)]
    else:
        moved = {v.new_path for v in violations}
        new = {p for p in added - moved if in_scope(p, given) and migration_key(p)}
        to_lint = [repo.top / p for p in sorted(new)]
    return CheckResult(repo.ref, repo.top, tuple(violations), problems, tuple(to_lint))


def lint_step(config: Config, paths: Sequence[Path], top: Path) -> Report:
    """Lint the new and changed migration files (``CheckResult.to_lint``), shown from ``top``.

    The linter is imported here: it compiles the SQL lexer, tens of milliseconds that a commit
    adding no migration never needs.
    """
    from sqlmig.lint.run import lint

    return lint(config, paths, (), top)


def _open(config: Config, targets: Sequence[Target], options: Options) -> _Repo:
    top = repo_top(config.root)
    specs = []
    for target in targets:
        spec = _relative(target.migrations, top)
        if spec is None:
            raise GitError(
                f"target {target.name}: migrations folder {target.migrations} is outside the "
                f"git repository {top}",
                "keep the migrations in the repository that 'sqlmig check' guards",
            )
        specs.append(spec)
    ref, rev = resolve_ref(top, options.ref or config.immutable_ref)
    return _Repo(top, ref, rev, tuple(specs), options.worktree)


def _given(paths: Sequence[str] | None, cwd: Path, top: Path) -> frozenset[str] | None:
    if paths is None:
        return None
    relative = (_relative(cwd / p, top) for p in paths)
    return frozenset(p for p in relative if p is not None)


def _compare(
    repo: _Repo, changes: Sequence[Change], added: set[str], given: frozenset[str] | None
) -> list[Violation]:
    """Applied files modified (content compared as the checksum sees it), deleted or renamed."""
    edits = [c for c in changes if c.status in "MTU" and in_scope(c.new_path, given)]
    blobs = read_blobs(repo.top, _blobs_needed(edits, repo.worktree))
    violations = [_moved(c, added) for c in changes if c.status in "DR"]
    for c in edits:
        old = text_of(blobs[c.old_blob], c.old_path)
        new = text_of(_current(repo, c, blobs), c.new_path)
        if old != new:
            diff = unified_diff(old, new, c.new_path)
            violations.append(Violation(c.old_path, "modified", None, diff))
    return sorted(violations, key=lambda v: v.path)


def _moved(change: Change, added: set[str]) -> Violation:
    if change.status == "R":
        return Violation(change.old_path, "renamed", change.new_path)
    new_path = renamed_to(change.old_path, added)
    return Violation(change.old_path, "deleted" if new_path is None else "renamed", new_path)


def _blobs_needed(edits: Sequence[Change], worktree: bool) -> Iterator[str]:
    for c in edits:
        yield c.old_blob
        if not worktree and c.status != "U":
            yield c.new_blob


def _current(repo: _Repo, change: Change, blobs: dict[str, bytes]) -> bytes:
    """The file as it is now: its staged blob, or (worktree, unmerged) the file on disk."""
    if not repo.worktree and change.status != "U":
        return blobs[change.new_blob]
    try:
        return (repo.top / change.new_path).read_bytes()
    except OSError:  # a symlink to nowhere, say: the scan reports it; compare as empty
        return b""


def _scans(
    repo: _Repo, targets: Sequence[Target], given: frozenset[str] | None
) -> Iterator[files.Scan]:
    for target, spec in zip(targets, repo.specs, strict=True):
        # git keeps no empty folders: a folder missing from a fresh clone has no migrations yet
        if not target.migrations.is_dir():
            continue
        if given is None:
            yield files.scan(target.migrations)
        elif (only := scan_filter(spec, given)) is not None:
            yield files.scan(target.migrations, only)


def _problems(repo: _Repo, found: Sequence[FileProblem]) -> tuple[FileProblem, ...]:
    if not found or repo.worktree:
        return tuple(found)
    untracked = other_files(repo.top, repo.specs, ignored=True)  # asked only when needed
    return tuple(p for p in found if _relative(p.path, repo.top) not in untracked)


def _paths(migration: Migration) -> Iterator[Path]:
    yield migration.up.path
    if migration.down is not None:
        yield migration.down.path
