"""Crash points, so tests can kill sqlmig at exact moments (every statement boundary).

``SQLMIG_FAILPOINT=NAME[:N]`` makes the process SIGKILL itself the N-th time (default: first) it
reaches point NAME — exactly what ``kill -9`` at that moment does. Unset (always, in normal use),
``hit`` costs one comparison. The points are listed in ``POINTS``; the executor names them.
"""

from __future__ import annotations

import os
import signal
from typing import Final

POINTS: Final = (
    "before-migration",  # nothing sent yet
    "after-statements",  # a transactional file ran, its history row not yet written
    "after-history",  # history row written, COMMIT not yet sent
    "after-commit",  # the migration is committed
    "after-statement",  # a segment's statement ran, its progress not yet recorded
    "after-segment",  # a segment and its progress are committed
)

_ENV: Final = "SQLMIG_FAILPOINT"


def _parse(value: str | None) -> tuple[str, int] | None:
    if not value:
        return None
    name, _, nth = value.partition(":")
    if name not in POINTS:
        raise ValueError(f"{_ENV}: unknown point {name!r}; known: {', '.join(POINTS)}")
    return name, int(nth) if nth else 1


_armed = _parse(os.environ.get(_ENV))
_seen: dict[str, int] = {}


def armed(*names: str) -> bool:
    """Whether one of ``names`` is the armed point (the executor then takes the slower path on
    which that moment exists between two round trips)."""
    return _armed is not None and _armed[0] in names


def hit(name: str) -> None:
    """Die here, as kill -9 would, if this is the armed point and occurrence."""
    if _armed is None or _armed[0] != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] == _armed[1]:
        os.kill(os.getpid(), signal.SIGKILL)
