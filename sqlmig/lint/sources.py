"""Which files ``sqlmig lint`` reads, and reading them with their up/down partner.

Decisions: with no PATHS, the files of the target's migrations folder named
``NNN_name.up|down.sql`` (misnamed files are ``check``'s business). A PATH that is a file is
linted whatever its name (``.down.sql`` makes it a down file, anything else an up file); a
folder means every ``*.sql`` file in it and its subfolders, dot folders skipped. Pair rules
only apply to files named like migrations: their partner is the sibling with the other kind.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlmig.errors import MigrationFileError
from sqlmig.files import FILENAME_RE, Kind, SqlFile, read_sql_file
from sqlmig.lint.engine import LintError, error_of
from sqlmig.lint.source import Folder, Source


def target_files(folder: Path) -> tuple[list[Path], list[LintError]]:
    """The migration files of a target's folder, sorted by name."""
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if entry.is_file())
    except OSError as exc:
        return [], [LintError(str(folder), f"cannot read the folder: {exc.strerror}", _HINT)]
    return [folder / n for n in names if FILENAME_RE.fullmatch(n)], []


def expand(paths: Sequence[Path]) -> tuple[list[Path], list[LintError]]:
    """PATHS as given on the command line: files as they are, folders searched for ``*.sql``."""
    files: list[Path] = []
    errors: list[LintError] = []
    for path in paths:
        if path.is_dir():
            files += sorted(_sql_files(path))
        elif path.is_file():
            files.append(path)
        else:
            errors.append(LintError(str(path), "does not exist", _HINT))
    return list(dict.fromkeys(files)), errors


_HINT = "pass migration files or folders, e.g. 'sqlmig lint migrations/'"


def _sql_files(folder: Path) -> Iterable[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        yield from (Path(root, n) for n in names if n.lower().endswith(".sql"))


def load(paths: Sequence[Path], cwd: Path) -> tuple[list[Source], list[LintError]]:
    """Read every file and find its partner and its folder's earlier up files; unreadable
    files become errors."""
    read: dict[Path, SqlFile] = {}
    errors: list[LintError] = []
    for path in paths:
        try:
            read[path] = read_sql_file(path, kind_of(path))
        except MigrationFileError as exc:
            errors.append(error_of(exc, display(path, cwd), path))
    folders: dict[Path, Folder] = {}
    return [_source(file, read, folders, cwd) for file in read.values()], errors


def kind_of(path: Path) -> Kind:
    return "down" if path.name.lower().endswith(".down.sql") else "up"


def display(path: Path, cwd: Path) -> str:
    """The path as findings show it: relative to the working directory when inside it."""
    text, base = str(path), str(cwd)
    if not os.path.isabs(text):
        return text
    prefix = base if base.endswith(os.sep) else base + os.sep
    return text[len(prefix) :] if text.startswith(prefix) else text


def _source(
    file: SqlFile, read: dict[Path, SqlFile], folders: dict[Path, Folder], cwd: Path
) -> Source:
    kind = kind_of(file.path)
    match = FILENAME_RE.fullmatch(file.path.name)
    if match is None:
        return Source(file, kind, display(file.path, cwd))
    other: Kind = "down" if kind == "up" else "up"
    partner_path = file.path.with_name(f"{match.group(1)}_{match.group(2)}.{other}.sql")
    partner = read.get(partner_path) or _read(partner_path, other)
    exists = partner is not None or partner_path.is_file()
    parent = file.path.parent
    if parent not in folders:
        folders[parent] = _folder(parent, read)
    return Source(
        file,
        kind,
        display(file.path, cwd),
        partner_path,
        exists,
        partner,
        int(match.group(1)),
        folders[parent],
    )


def _read(path: Path, kind: Kind) -> SqlFile | None:
    """A file needed only as context: missing or unreadable is None (it is reported when it
    is linted itself)."""
    try:
        return read_sql_file(path, kind)
    except MigrationFileError:
        return None


def _folder(folder: Path, read: dict[Path, SqlFile]) -> Folder:
    """The up files of ``folder``, reusing those already read."""
    ups: list[tuple[int, SqlFile]] = []
    try:
        names = [entry.name for entry in os.scandir(folder)]
    except OSError:
        names = []
    for name in names:
        match = FILENAME_RE.fullmatch(name)
        if match is None or match.group(3) != "up":
            continue
        path = folder / name
        file = read.get(path) or _read(path, "up")
        if file is not None:
            ups.append((int(match.group(1)), file))
    return Folder(ups)
