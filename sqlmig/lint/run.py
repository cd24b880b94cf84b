"""``sqlmig lint``: choose the files, read them, lint them through the cache, one report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlmig.config import Config
from sqlmig.lint import sources
from sqlmig.lint.cache import LintCache
from sqlmig.lint.engine import LintError, Report, Settings, lint_sources


def lint(
    config: Config,
    paths: Sequence[Path],
    folders: Sequence[Path],
    cwd: Path,
    *,
    use_cache: bool = True,
) -> Report:
    """Lint ``paths`` (files or folders), or with none the migration files of ``folders``."""
    errors: list[LintError] = []
    files: list[Path] = []
    if paths:
        files, errors = sources.expand([cwd / p for p in paths])
    else:
        for folder in folders:
            found, problems = sources.target_files(folder)
            files += found
            errors += problems
    loaded, unreadable = sources.load(files, cwd)
    store = cache_for(config, cwd) if use_cache else None
    report = lint_sources(loaded, Settings.from_config(config), store)
    if store is not None:
        store.save()
    report.errors = sorted([*errors, *unreadable, *report.errors], key=lambda e: e.path)
    report.files += len(unreadable)
    return report


def cache_for(config: Config, cwd: Path) -> LintCache | None:
    """The project's cache: next to the config file; without one, only in an existing
    ``./.sqlmig`` (linting a stray file must not litter the folder it is in)."""
    if config.path is not None:
        return LintCache(config.root)
    return LintCache(cwd) if (cwd / ".sqlmig").is_dir() else None
