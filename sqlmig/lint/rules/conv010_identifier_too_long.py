"""An identifier longer than 63 bytes: PostgreSQL silently truncates it.

## What it catches

Any identifier (quoted or not, in any statement, DO-block bodies included) whose name is
longer than 63 bytes in UTF-8, reported once per file at its first occurrence. Not reported:
string literals (`WHERE conname = '...'`), comments, and function bodies.

## Why it hurts

Names are `NAMEDATALEN - 1` = 63 bytes. A longer one is cut with only a NOTICE that
migration runners do not show, so the object gets a name nobody wrote:

- name-based guards stop working: `IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname
  = 'the_full_long_name')` never finds the truncated name, so a re-run tries to add the
  constraint again and fails;
- two long names that share their first 63 bytes become the same name: `relation ...
  already exists`, or, with `IF NOT EXISTS`, the second index is silently never built;
- tools and ORMs that compare the schema with the models see a difference on every run.

## Example

```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS
    subscription_invoice_line_items_subscription_id_created_at_status_idx
    ON subscription_invoice_line_items (subscription_id, created_at, status);
```

## Use instead

```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS sub_invoice_items_sub_created_status_idx
    ON subscription_invoice_line_items (subscription_id, created_at, status);
```
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.rule import Finding, Rule

MAX_BYTES: Final = 63
_KINDS: Final = frozenset({"ident", "qident"})
# A name over 63 bytes has over 63 ASCII characters, or at least 16 (4 bytes each at most).
_LONG_ASCII: Final = re.compile(r'[A-Za-z0-9_$]{64,}|"[^"]{64,}')
_LONG: Final = re.compile(r'[^\s"(),;.:]{16,}|"[^"]{16,}')


class IdentifierTooLong(Rule):
    id = "CONV010"
    slug = "identifier-too-long"
    hint = "shorten the name to at most 63 bytes (abbreviate: idx, fk, chk)"

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        seen: set[str] = set()
        for stmt in ctx.statements:
            if not (_LONG_ASCII if stmt.sql.isascii() else _LONG).search(stmt.sql):
                continue  # no run of characters long enough to be such a name
            for i in range(len(stmt)):
                name = stmt.name(i) if stmt.kind(i) in _KINDS else None
                if name is None or len(name) <= MAX_BYTES // 4 or name in seen:
                    continue
                size = len(name.encode())
                if size <= MAX_BYTES:
                    continue
                seen.add(name)
                cut = name.encode()[:MAX_BYTES].decode(errors="ignore")
                yield self.finding(
                    ctx,
                    stmt,
                    f"identifier {name} is {size} bytes: PostgreSQL truncates it to {cut}",
                    at=i,
                    hint=f"shorten {name} to at most {MAX_BYTES} bytes",
                )
