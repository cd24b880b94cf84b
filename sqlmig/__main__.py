"""``python -m sqlmig``: the same entry point as the ``sqlmig`` script."""

from __future__ import annotations

from sqlmig.cli import entry

entry()
