"""Lint results cached by file content, in ``.sqlmig/cache/lint.json`` next to the config.

Applied migrations never change, so a file's findings stay valid while nothing that decides
them changes. The key is a sha256 of: the lint sources' digest and sqlmig's version (so a new
rule or a fixed bug invalidates everything), the lint settings (disabled rules, severities,
lock_timeout), the file's name, kind and checksum, the partner file's checksum (pair rules)
and a digest of the earlier up files of its folder (rules that read earlier migrations). A
missing, unreadable or corrupt cache file is ignored and rewritten; writing it is best effort
(a read-only checkout lints, it just does not cache). At most :data:`MAX_ENTRIES` are kept,
oldest dropped first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Final, cast

from sqlmig._version import __version__
from sqlmig.config import SEVERITIES
from sqlmig.lint import registry
from sqlmig.lint.rule import Finding

if TYPE_CHECKING:
    from sqlmig.lint.engine import Settings
    from sqlmig.lint.source import Source

FILE_NAME: Final = "lint.json"
FORMAT: Final = 1
MAX_ENTRIES: Final = 20_000
GITIGNORE: Final = "# sqlmig's local state (caches, private server); never commit it\n*\n"

Entry = list[list[object]]  # [line, column, rule, slug, severity, message, hint] per finding


class LintCache:
    """Findings by key; :meth:`save` writes them back when something changed."""

    def __init__(self, project: Path) -> None:
        self.home = project / ".sqlmig"
        self.path = self.home / "cache" / FILE_NAME
        self._entries: dict[str, Entry] | None = None
        self._dirty = False

    def key(self, source: Source, settings: Settings) -> str:
        file = source.file
        if source.partner_path is None:
            partner = "-"
        elif source.partner is not None:
            partner = source.partner.checksum
        else:
            partner = "exists" if source.partner_exists else "missing"
        parts = (_engine(), settings.fingerprint(), file.path.name, source.kind, file.checksum)
        text = "\0".join((*parts, partner, source.earlier_digest()))
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str, display: str) -> list[Finding] | None:
        entry = self._load().get(key)
        if entry is None:
            return None
        try:
            return [_finding(display, row) for row in entry]
        except (TypeError, ValueError):
            return None  # a hand-edited or foreign entry: lint again

    def put(self, key: str, findings: list[Finding]) -> None:
        entries = self._load()
        entries[key] = [
            [f.line, f.column, f.rule, f.slug, f.severity, f.message, f.hint] for f in findings
        ]
        self._dirty = True

    def save(self) -> None:
        if not self._dirty or self._entries is None:
            return
        entries = self._entries
        for stale in list(entries)[: max(len(entries) - MAX_ENTRIES, 0)]:
            del entries[stale]
        with contextlib.suppress(OSError):
            self._write(json.dumps({"format": FORMAT, "entries": entries}))
        self._dirty = False

    def _load(self) -> dict[str, Entry]:
        if self._entries is None:
            self._entries = _read(self.path)
        return self._entries

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ignore = self.home / ".gitignore"
        if not ignore.exists():
            ignore.write_text(GITIGNORE, encoding="utf-8")
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".lint-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, self.path)  # atomic: a concurrent reader sees old or new, whole
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _engine() -> str:
    return f"{__version__}:{registry.source_digest()}"


def _read(path: Path) -> dict[str, Entry]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return {}
    entries = doc.get("entries")
    return cast("dict[str, Entry]", entries) if isinstance(entries, dict) else {}


def _finding(display: str, row: list[object]) -> Finding:
    line, column, rule, slug, severity, message, hint = row
    if not (
        isinstance(line, int)
        and isinstance(column, int)
        and isinstance(rule, str)
        and isinstance(slug, str)
        and severity in SEVERITIES
        and isinstance(message, str)
        and isinstance(hint, str)
    ):
        raise TypeError("malformed cache row")
    return Finding(display, line, column, rule, slug, severity, message, hint)
