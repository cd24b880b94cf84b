"""sqlmig: raw-SQL migrations for PostgreSQL, checksummed, linted and applied safely.

The public Python API is what ``__all__`` lists; everything else may change. The splitter is
imported on first use, so commands that never split (``new``, ``check`` of unchanged files)
do not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmig._version import __version__
from sqlmig.errors import SqlmigError

if TYPE_CHECKING:
    from sqlmig.sql.split import Statement, split_statements

__all__ = ["SqlmigError", "Statement", "__version__", "split_statements"]


def __getattr__(name: str) -> Any:
    if name in ("Statement", "split_statements"):
        from sqlmig.sql import split

        return getattr(split, name)
    raise AttributeError(f"module 'sqlmig' has no attribute {name!r}")
