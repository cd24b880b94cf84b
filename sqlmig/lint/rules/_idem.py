"""Helpers shared by the IDEM rules (not a rule: the registry loads ``<id>_<slug>`` modules only).

A statement inside a DO block is guarded when the engine found a guard (``stmt.guarded``: an
IF condition reading the catalog or testing EXISTS, an EXCEPTION handler for the error a
re-run raises), and also when it sits inside an ``IF`` of a DO block that reads the catalog
elsewhere: the existence check was stored in a variable or in ``FOUND`` first
(``SELECT EXISTS (SELECT FROM pg_index ...) INTO found_it; IF NOT found_it THEN ...``,
``PERFORM 1 FROM pg_constraint WHERE ...; IF NOT FOUND THEN ...``), or when it follows an
early exit (``IF EXISTS (SELECT 1 FROM settings WHERE ...) THEN RETURN; END IF;``).

A statement is re-runnable on a table that is new on every run of the file: one an earlier
statement drops (``DROP TABLE IF EXISTS t; CREATE TABLE t ...``: its columns, constraints,
indexes and triggers go with it), or a temporary table created earlier (a re-run is a new
session, where it does not exist yet).
"""

from __future__ import annotations

import re
from typing import Final
from weakref import WeakKeyDictionary

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import RESERVED, ObjectName, Span, Stmt, scan
from sqlmig.sql.lexer import SplitError

_PLAIN_NAME: Final = re.compile(r"[a-z_][a-z0-9_$]*")
_TEMP_TABLE: Final = "CREATE [GLOBAL|LOCAL] TEMP|TEMPORARY [UNLOGGED] TABLE"
_CATALOG_PREFIXES: Final = ("pg_", "information_schema", "to_reg")
_IF_OPENERS: Final = frozenset({";", "THEN", "ELSE", "LOOP", "BEGIN", ">>"})
_temp_tables: WeakKeyDictionary[FileContext, list[tuple[int, ObjectName]]] = WeakKeyDictionary()
_do_guards: WeakKeyDictionary[FileContext, dict[int, list[tuple[int, int]]]] = WeakKeyDictionary()


def guarded(ctx: FileContext, stmt: Stmt) -> bool:
    """Whether a DO block guards ``stmt`` (see the module docstring)."""
    if stmt.guarded:
        return True
    parent = stmt.parent
    if parent is None:
        return False
    per_do = _do_guards.setdefault(ctx, {})
    spans = per_do.get(parent.index)
    if spans is None:
        spans = per_do[parent.index] = _checked_if_spans(parent)
    return any(start <= stmt.offset < end for start, end in spans)


def _checked_if_spans(do: Stmt) -> list[tuple[int, int]]:
    """File offsets a DO body guards beyond what the engine sees: the IF blocks of a body that
    reads the catalog, and everything after an early exit (``IF EXISTS (...) THEN RETURN;
    END IF;``)."""
    body = next((i for i in range(len(do)) if do.kind(i) == "dollar"), None)
    if body is None:
        return []
    word = do.word(body)
    tag = word.text.index("$", 1) + 1
    try:
        tokens = scan(do.source, word.offset + tag, word.end - tag)
    except SplitError:
        return []
    kws, offsets = tokens.kws, tokens.offsets
    catalog = [
        k == "ident" and t.lower().startswith(_CATALOG_PREFIXES)
        for k, t in zip(tokens.kinds, tokens.texts, strict=True)
    ]
    spans: list[tuple[int, int]] = []
    opened: list[int] = []  # token index of each open IF
    for i, kw in enumerate(kws):
        if kw == "IF" and (i == 0 or kws[i - 1] in _IF_OPENERS):
            opened.append(i)
        elif kw == "IF" and kws[i - 1] == "END" and opened:
            start = opened.pop()
            if any(catalog):
                spans.append((offsets[start], offsets[i]))
            then = kws.index("THEN", start) if "THEN" in kws[start:i] else i
            checks = any(catalog[start:then]) or "EXISTS" in kws[start:then]
            if checks and kws[then + 1 : then + 2] == ["RETURN"]:
                spans.append((offsets[i], word.end))  # the rest of the body
    return spans


def fresh_table(ctx: FileContext, stmt: Stmt, table: ObjectName | None) -> bool:
    """Whether ``table`` is new on every run of the file when ``stmt`` runs."""
    if table is None:
        return False
    if ctx.dropped_before(stmt, "table", table):
        return True
    return any(i < stmt.index and name.same(table) for i, name in temp_tables(ctx))


def temp_tables(ctx: FileContext) -> list[tuple[int, ObjectName]]:
    """(statement index, name) of every ``CREATE TEMP TABLE`` of the file, found once."""
    found = _temp_tables.get(ctx)
    if found is None:
        found = []
        for stmt in ctx.starting_with("CREATE"):
            name = stmt.name_after(_TEMP_TABLE)
            if name is not None:
                found.append((stmt.index, name))
        _temp_tables[ctx] = found
    return found


def constraint_start(kw: str, following: str) -> bool:
    """Whether ``ADD <kw> <following>`` adds a table constraint rather than a column."""
    if kw in ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
        return True
    return kw == "EXCLUDE" and following in ("USING", "(")


def sql(name: ObjectName | str | None, default: str = "...") -> str:
    """A name as SQL text for messages and hints: double-quoted where PostgreSQL needs it."""
    if name is None:
        return default
    parts = (name,) if isinstance(name, str) else name.parts
    return ".".join(p if _plain(p) else '"' + p.replace('"', '""') + '"' for p in parts)


def _plain(part: str) -> bool:
    return _PLAIN_NAME.fullmatch(part) is not None and part.upper() not in RESERVED


def rewrite(stmt: Stmt, at: int, insert: str, limit: int = 120) -> str:
    """The statement on one line with ``insert`` placed before word ``at`` (for hints)."""
    head = " ".join(stmt.word(k).text for k in range(at))
    tail = " ".join(Span(stmt, at, len(stmt)).text.split())
    text = f"{head} {insert} {tail}".strip()
    return text if len(text) <= limit else text[: limit - 4].rstrip() + " ..."
