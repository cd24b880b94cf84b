"""Cut a ``DO`` block's PL/pgSQL body into the SQL statements it runs, noting their guards.

Pragmatic, not a PL/pgSQL parser: block structure (``DECLARE``/``BEGIN``/``EXCEPTION``/``END``,
``IF``/``ELSIF``/``ELSE``/``END IF``, loops, ``CASE``) is skipped, every other ``;``-terminated
statement is kept. A statement is guarded when an enclosing ``IF`` condition reads the catalog
(``pg_*``, ``information_schema``, ``to_reg*()``: "catalog-check") or tests ``EXISTS``
("exists-check"), or when its block handles the error a re-run raises (``EXCEPTION WHEN
duplicate_object``, ``others``, ...: "exception"). Bodies in another language, or that the
lexer cannot read, give no statements: PostgreSQL reports those when the DO runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from sqlmig.lint.model import Guard, LineIndex, Stmt, Tokens, scan
from sqlmig.sql.kinds import is_transactional
from sqlmig.sql.lexer import SplitError

# Errors a re-run raises when the object is already there (or already gone): a handler for
# one of them makes the block's statements safe to run twice.
GUARD_CONDITIONS: Final = frozenset(
    {
        "others",
        "duplicate_object",
        "duplicate_table",
        "duplicate_column",
        "duplicate_schema",
        "duplicate_function",
        "duplicate_database",
        "duplicate_alias",
        "undefined_object",
        "undefined_table",
        "undefined_column",
        "undefined_function",
        "invalid_table_definition",
        "unique_violation",
        "42710",
        "42p07",
        "42701",
        "42p06",
        "42723",
        "42p04",
        "42712",
        "42704",
        "42p01",
        "42703",
        "42883",
        "42p16",
        "23505",
    }
)
_CATALOG_PREFIXES: Final = ("pg_", "information_schema", "to_reg")
_LOOP_HEADS: Final = frozenset({"WHILE", "FOR", "FOREACH"})

FrameKind = Literal["block", "if", "loop", "case"]
_END_OF: Final[dict[str, FrameKind]] = {"IF": "if", "LOOP": "loop", "CASE": "case"}


@dataclass(frozen=True, slots=True)
class BodyStatement:
    """Words ``start``..``end`` of the body; ``handled``: conditions its block catches."""

    start: int
    end: int
    guards: frozenset[Guard]
    handled: frozenset[str]


def do_statements(do: Stmt, lines: LineIndex) -> list[Stmt]:
    """The statements of a ``DO`` block's body, as models with file offsets."""
    body = _body(do)
    if body is None:
        return []
    offset, text = body
    try:
        tokens = scan(text, 0, len(text), base=offset)
    except SplitError:
        return []
    out = []
    for part in split_body(tokens):
        start = tokens.offsets[part.start]
        sql = do.source[start : tokens.offsets[part.end - 1] + len(tokens.texts[part.end - 1])]
        stmt = Stmt(do.source, sql, start, tokens.cut(part.start, part.end), lines)
        stmt.parent = do
        stmt.guards = part.guards
        stmt.handled_conditions = part.handled
        stmt.transactional = is_transactional(sql)
        out.append(stmt)
    return out


def _body(do: Stmt) -> tuple[int, str] | None:
    """(file offset, text) of a PL/pgSQL DO body in dollar quotes, else None."""
    if do.kw(0) != "DO":
        return None
    language = do.find("LANGUAGE")
    if language is not None and do.name(language + 1) != "plpgsql":
        return None
    quoted = next((i for i in range(len(do)) if do.kind(i) == "dollar"), None)
    if quoted is None:
        return None
    body = do.word(quoted)
    tag = len(body.text[: body.text.index("$", 1) + 1])
    return body.offset + tag, body.text[tag:-tag]


@dataclass
class _Frame:
    kind: FrameKind
    guards: set[Guard] = field(default_factory=set)
    first: int = 0  # first statement of a block's body (index into the output)
    body_end: int | None = None  # where its EXCEPTION section starts
    handled: set[str] = field(default_factory=set)


def split_body(tokens: Tokens) -> list[BodyStatement]:
    """The plain statements of a PL/pgSQL body given as words."""
    return _Splitter(tokens).run()


class _Splitter:
    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens
        self.kws = tokens.kws
        self.i = 0
        self.stack: list[_Frame] = []
        self.out: list[BodyStatement] = []

    def run(self) -> list[BodyStatement]:
        while self.i < len(self.kws):
            self.step(self.kws[self.i])
        while self.stack:
            self.close(self.stack[-1].kind)
        return self.out

    def step(self, kw: str) -> None:
        top = self.stack[-1] if self.stack else None
        if kw == ";":
            self.i += 1
        elif kw == "<<":
            self.i = self.after(">>")
        elif kw == "DECLARE":
            self.i = self.upto("BEGIN")
        elif kw == "BEGIN":
            self.stack.append(_Frame("block", first=len(self.out)))
            self.i += 1
        elif kw == "END":
            self.end()
        elif kw in ("IF", "ELSIF", "ELSEIF"):
            self.condition(kw)
        elif kw == "ELSE" or kw == "LOOP":
            self.stack += [_Frame("loop")] if kw == "LOOP" else []
            self.i += 1
        elif kw in _LOOP_HEADS and "LOOP" in self.kws[self.i :]:
            self.i = self.after("LOOP")
            self.stack.append(_Frame("loop"))
        elif kw == "CASE":
            self.i = self.upto("WHEN")
            self.stack.append(_Frame("case"))
        elif kw == "EXCEPTION" and top is not None and top.kind == "block":
            top.body_end = len(self.out)
            self.i += 1
        elif kw == "WHEN" and top is not None and top.kind in ("block", "case"):
            self.when(top)
        else:
            self.plain()

    def plain(self) -> None:
        start = self.i
        self.i = self.upto(";")
        guards: set[Guard] = set()
        for frame in self.stack:
            guards |= frame.guards
        self.out.append(BodyStatement(start, self.i, frozenset(guards), frozenset()))

    def condition(self, kw: str) -> None:
        start = self.i + 1
        self.i = self.upto("THEN")
        guards = _condition_guards(self.tokens.cut(start, self.i))
        self.i += 1
        if kw == "IF":
            self.stack.append(_Frame("if", guards))
        elif self.stack:
            self.stack[-1].guards |= guards

    def when(self, top: _Frame) -> None:
        start = self.i + 1
        self.i = self.upto("THEN")
        if top.kind == "block":
            top.handled |= _conditions(self.tokens.cut(start, self.i))
        self.i += 1

    def end(self) -> None:
        following = self.kws[self.i + 1] if self.i + 1 < len(self.kws) else ""
        self.close(_END_OF.get(following, "block"))
        self.i = self.after(";")

    def close(self, kind: FrameKind) -> None:
        """Pop frames up to the innermost one of ``kind``; a block with a guarding handler marks
        the statements of its body as guarded."""
        while self.stack:
            frame = self.stack.pop()
            if frame.kind == "block" and frame.handled & GUARD_CONDITIONS:
                self.mark(frame)
            if frame.kind == kind:
                return

    def mark(self, frame: _Frame) -> None:
        end = len(self.out) if frame.body_end is None else frame.body_end
        handled = frozenset(frame.handled)
        for k in range(frame.first, end):
            s = self.out[k]
            self.out[k] = BodyStatement(s.start, s.end, s.guards | {"exception"}, handled)

    def upto(self, kw: str) -> int:
        """Index of the next ``kw`` outside parentheses (the end when there is none)."""
        depth = 0
        kws = self.kws
        for j in range(self.i, len(kws)):
            k = kws[j]
            if k == kw and depth == 0:
                return j
            depth += 1 if k == "(" else -1 if k == ")" else 0
        return len(kws)

    def after(self, kw: str) -> int:
        return min(self.upto(kw) + 1, len(self.kws))


def _condition_guards(tokens: Tokens) -> set[Guard]:
    guards: set[Guard] = set()
    for kind, text, kw in zip(tokens.kinds, tokens.texts, tokens.kws, strict=True):
        name = text.lower() if kind == "ident" else text.strip('"') if kind == "qident" else ""
        if name.startswith(_CATALOG_PREFIXES):
            guards.add("catalog-check")
        elif kw == "EXISTS":
            guards.add("exists-check")
    return guards


def _conditions(tokens: Tokens) -> set[str]:
    """Condition names of ``WHEN a OR b OR SQLSTATE '42710'``, lower case."""
    out = set()
    for kind, text, kw in zip(tokens.kinds, tokens.texts, tokens.kws, strict=True):
        if kind == "ident" and kw not in ("OR", "SQLSTATE"):
            out.add(text.lower())
        elif kind == "string":
            out.add(text.strip("'").lower())
    return out
