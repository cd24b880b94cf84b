"""A `-- sqlmig:ignore` or `-- sqlmig:ignore-file` that suppresses nothing, or names no rule.

## What it catches

A suppression comment whose rule reports nothing where the comment applies (the next
statement for `sqlmig:ignore`, the whole file for `sqlmig:ignore-file`), and a suppression
naming a rule ID that does not exist (a typo such as `LOCK01`). The engine reports these
itself after running the other rules; a suppression of a rule that did not run on the file
(disabled in the config, or a DEST/COMPAT rule in a down file) is not reported.

## Why it hurts

A stale suppression hides the next real violation of that rule on the same statement, and a
misspelt one silently suppresses nothing while the author believes the finding is
acknowledged. Both make the ignore comments unreliable as review notes.

## Example

```sql
-- sqlmig:ignore IDEM001 the table is dropped first
CREATE TABLE IF NOT EXISTS audit_log (id bigint);   -- IDEM001 does not fire here
```

## Use instead

Remove the comment, or fix the rule ID (`sqlmig explain RULE` lists what each rule catches).
Disable this rule with `lint: {disable: [SQLMIG001]}`, or for one file with
`-- sqlmig:ignore-file SQLMIG001 <reason>`.
"""

from __future__ import annotations

from sqlmig.lint.rule import Rule


class UnusedSuppression(Rule):
    id = "SQLMIG001"
    slug = "unused-suppression"
    severity = "warning"
    hint = "remove the suppression, or fix its rule ID"
    # No check(): the engine reports unused suppressions after the other rules ran.
