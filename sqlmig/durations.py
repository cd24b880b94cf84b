"""Parse timeouts the way PostgreSQL's time GUCs read them (``10s``, ``30min``, bare = ms).

Decisions: units are PostgreSQL's, case-sensitive as in PostgreSQL: ``ms``, ``s``, ``min``,
``h``, ``d`` (``us`` is left out: sqlmig's timeouts are whole milliseconds). Values are whole
non-negative numbers, optionally separated from the unit by spaces (``10 s``); fractions such as
``1.5s`` are refused rather than rounded (write ``1500ms``). ``0`` disables the timeout. The
result must fit PostgreSQL's limit for ``lock_timeout``/``statement_timeout`` (INT_MAX ms).
"""

from __future__ import annotations

import re
from typing import Final

from sqlmig.errors import ConfigError, SqlmigError

MAX_MS: Final = 2_147_483_647

_UNITS_MS: Final = {"ms": 1, "s": 1_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION_RE: Final = re.compile(r"([0-9]+)\s*([A-Za-z]*)")
HINT: Final = "write a whole number with a unit: ms, s, min, h or d (e.g. 500ms, 10s, 30min)"


def duration_ms(value: str | int) -> int:
    """Milliseconds for ``value``; raises ``ValueError`` with a message that has no location."""
    if isinstance(value, bool):  # YAML 'yes'/'true' are bools, and bool is an int subclass
        raise ValueError("must be a duration such as 10s, not true/false")
    ms = value if isinstance(value, int) else _parse_text(value)
    if ms < 0:
        raise ValueError(f"must not be negative: {value}")
    if ms > MAX_MS:
        raise ValueError(f"{value} is too long (PostgreSQL's limit is {MAX_MS}ms, about 24 days)")
    return ms


def _parse_text(value: str) -> int:
    match = _DURATION_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a duration")
    number, unit = match.groups()
    if not unit:
        return int(number)  # a bare number is milliseconds, as for PostgreSQL's GUCs
    if unit not in _UNITS_MS:
        raise ValueError(f"{value!r} has unknown unit {unit!r}")
    return int(number) * _UNITS_MS[unit]


def parse_duration_ms(value: str | int, where: str, error: type[SqlmigError] = ConfigError) -> int:
    """Milliseconds for ``value``, or ``error("<where>: <what>", hint)``."""
    try:
        return duration_ms(value)
    except ValueError as exc:
        raise error(f"{where}: {exc}", HINT) from None
