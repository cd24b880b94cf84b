"""An up file `NNN_name.up.sql` with no `NNN_name.down.sql` beside it.

## What it catches

A file named like an up migration whose down file is missing from the same folder. Files
not named `NNN_name.up.sql` (a loose snippet passed to `sqlmig lint`) have no pair and are
not reported.

## Why it hurts

Without a down file, `sqlmig down`, `redo` and the round-trip check of `sqlmig test` cannot
revert the migration, and nobody decided whether it can be undone: the question comes up
during an incident, when a rollback is needed now.

## Example

```text
migrations/
  012_add_orders_note.up.sql
```

## Use instead

```text
migrations/
  012_add_orders_note.up.sql
  012_add_orders_note.down.sql    -- ALTER TABLE orders DROP COLUMN IF EXISTS note;
```

When the change cannot be undone, say so on the first line of the down file:
`-- sqlmig:irreversible <reason>`; `sqlmig down` then refuses with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.rule import Finding, Rule


class MissingDownFile(Rule):
    id = "CONV005"
    slug = "missing-down-file"
    applies_to_down = False  # the pair is checked once, from its up file
    uses_partner = True
    hint = (
        "add the down file; if the change cannot be undone, its first line says so: "
        "-- sqlmig:irreversible <reason>"
    )

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if ctx.partner_path is None or ctx.partner_exists:
            return
        yield self.finding(ctx, None, f"no down file: create {ctx.partner_path.name}")
