"""``python -m sqlmig``: the same entry point as the ``sqlmig`` script."""

from __future__ import annotations

import sys

from sqlmig.cli import main

sys.exit(main())
