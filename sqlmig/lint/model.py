"""The statement model lint rules read: each statement's words (no whitespace, no comments) with
helpers to match keywords, read object names and walk parenthesised groups.

A :class:`Word` is one token. ``kw`` is what keyword matching compares: an unquoted identifier
upper-cased, punctuation/operators/numbers as written, and ``""`` for every quoted token
(strings, dollar-quoted bodies, quoted identifiers), so literals and ``"if"`` never match a
keyword. ``name`` is an identifier folded as PostgreSQL folds it (unquoted: ASCII lower case;
quoted: kept). Word indexes are statement-wide: a :class:`Span` (an ``ALTER TABLE`` action, a
group) returns indexes usable with ``stmt.word(i)`` and ``stmt.position(i)``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final, Literal, NamedTuple

from sqlmig.sql.lexer import TOKEN_RE, TokenKind, iter_tokens

if TYPE_CHECKING:
    from sqlmig.sql.split import Statement

_FOLD: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_KEYWORD_KINDS: Final = frozenset({"punct", "op", "number"})

# PostgreSQL's fully reserved keywords: never an unquoted object name.
_RESERVED_WORDS: Final = """
    ALL ANALYSE ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC BOTH CASE CAST CHECK COLLATE COLUMN
    CONSTRAINT CREATE CURRENT_CATALOG CURRENT_DATE CURRENT_ROLE CURRENT_TIME CURRENT_TIMESTAMP
    CURRENT_USER DEFAULT DEFERRABLE DESC DISTINCT DO ELSE END EXCEPT FALSE FETCH FOR FOREIGN FROM
    GRANT GROUP HAVING IN INITIALLY INTERSECT INTO LATERAL LEADING LIMIT LOCALTIME LOCALTIMESTAMP
    NOT NULL OFFSET ON ONLY OR ORDER PLACING PRIMARY REFERENCES RETURNING SELECT SESSION_USER SOME
    SYMMETRIC SYSTEM_USER TABLE THEN TO TRAILING TRUE UNION UNIQUE USER USING VARIADIC WHEN WHERE
    WINDOW WITH"""
RESERVED: Final = frozenset(_RESERVED_WORDS.split())
# Skipped by name_after() between the keywords and the name.
_NAME_PREFIXES: Final = (("IF", "NOT", "EXISTS"), ("IF", "EXISTS"), ("CONCURRENTLY",), ("ONLY",))

Guard = Literal["catalog-check", "exists-check", "exception"]


class Word(NamedTuple):
    """One token of a statement; ``offset`` is in the file's text."""

    kind: TokenKind
    text: str
    kw: str
    offset: int

    @property
    def name(self) -> str | None:
        """The identifier this word names (folded like PostgreSQL), None for a non-identifier."""
        return _name(self.kind, self.text)

    @property
    def quoted(self) -> bool:
        return self.kind == "qident"

    @property
    def end(self) -> int:
        return self.offset + len(self.text)

    @property
    def value(self) -> str | None:
        """The content of a string literal or dollar-quoted string (escapes not processed)."""
        text = self.text
        if self.kind == "dollar":
            tag = text[: text.index("$", 1) + 1]
            return text[len(tag) : -len(tag)]
        if self.kind != "string":
            return None
        body = text[text.index("'") + 1 : -1]
        return body.replace("''", "'")


@dataclass(frozen=True, slots=True)
class ObjectName:
    """A possibly schema-qualified name; ``start``/``end`` are word indexes (end exclusive)."""

    parts: tuple[str, ...]
    start: int
    end: int
    quoted: bool

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def schema(self) -> str | None:
        return self.parts[-2] if len(self.parts) > 1 else None

    def same(self, other: ObjectName) -> bool:
        """Same object, as far as text can tell: equal names, and equal schemas when both are
        given (an unqualified name may resolve to any schema on the search_path)."""
        if self.name != other.name:
            return False
        return self.schema is None or other.schema is None or self.schema == other.schema

    def __str__(self) -> str:
        return ".".join(self.parts)


class Span:
    """Words ``start``..``end`` (exclusive) of a statement; every index is statement-wide.

    Patterns (``match``/``name_after``): ``WORD`` must come next, ``A|B`` either, ``[A|B]``
    optionally, ``[OR REPLACE]`` optionally both, ``...`` any words (shortest). Word arguments
    of ``starts_with``/``find`` may use ``A|B`` too. Keywords are compared upper-case.
    """

    __slots__ = ("end", "start", "stmt")

    def __init__(self, stmt: Stmt, start: int, end: int) -> None:
        self.stmt = stmt
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"Span({self.text!r})"

    def __len__(self) -> int:
        return self.end - self.start

    @property
    def text(self) -> str:
        """The span's original text, comments between its words included."""
        if self.start >= self.end:
            return ""
        stmt = self.stmt
        return stmt.source[stmt.word_offset(self.start) : stmt.word_end(self.end - 1)]

    def kw(self, i: int) -> str:
        """Keyword form of word ``i``; ``""`` outside the span."""
        return self.stmt.kws[i] if self.start <= i < self.end else ""

    def starts_with(self, *words: str, at: int | None = None) -> bool:
        """Whether the words from ``at`` (default: the span's start) are ``words``."""
        i = self.start if at is None else at
        return all(self.kw(i + k) in _choices(w) for k, w in enumerate(words))

    def match(self, pattern: str, at: int | None = None) -> int | None:
        """Index after ``pattern`` matched from ``at`` (default: the span's start), or None."""
        return _match(_compile(pattern), self, 0, self.start if at is None else at)

    def find(self, *words: str, start: int | None = None, depth: int | None = None) -> int | None:
        """Index of the first place ``words`` follow each other (from ``start``), or None.

        ``depth``: only where the first word is at this parenthesis depth (0: outside all
        parentheses of the statement).
        """
        kws = self.stmt.kws
        first = _choices(words[0])
        for i in range(self.start if start is None else start, self.end):
            if (
                kws[i] in first
                and (depth is None or self.stmt.depth(i) == depth)
                and self.starts_with(*words, at=i)
            ):
                return i
        return None

    def has_words(self, *words: str, depth: int | None = None) -> bool:
        return self.find(*words, depth=depth) is not None

    def name_at(self, i: int) -> ObjectName | None:
        """The dotted name starting at word ``i`` (None when word ``i`` is no identifier)."""
        parts: list[str] = []
        quoted = False
        j = i
        while (name := self._identifier(j)) is not None:
            parts.append(name)
            quoted = quoted or self.stmt.kind(j) == "qident"
            if self.kw(j + 1) != "." or self._identifier(j + 2) is None:
                return ObjectName(tuple(parts), i, j + 1, quoted)
            j += 2
        return None

    def name_after(self, pattern: str, at: int | None = None) -> ObjectName | None:
        """The name after ``pattern``, skipping IF [NOT] EXISTS, CONCURRENTLY and ONLY.

        ``stmt.name_after("CREATE [UNIQUE] INDEX")`` is None for an unnamed index.
        """
        i = self.match(pattern, at)
        return None if i is None else self.name_from(i)

    def name_from(self, i: int) -> ObjectName | None:
        """The name at word ``i``, after any IF [NOT] EXISTS, CONCURRENTLY and ONLY."""
        skipped = True
        while skipped:
            skipped = False
            for prefix in _NAME_PREFIXES:
                if self.starts_with(*prefix, at=i):
                    i += len(prefix)
                    skipped = True
        return self.name_at(i)

    def group_end(self, i: int) -> int:
        """Index of the ``)`` closing the ``(`` at ``i`` (the span's end when unbalanced)."""
        depth = 0
        kws = self.stmt.kws
        for j in range(i, self.end):
            if kws[j] == "(":
                depth += 1
            elif kws[j] == ")":
                depth -= 1
                if depth == 0:
                    return j
        return self.end

    def groups(self) -> list[Span]:
        """The outermost parenthesised groups, each without its parentheses."""
        out: list[Span] = []
        i = self.start
        while i < self.end:
            if self.stmt.kws[i] == "(":
                close = self.group_end(i)
                out.append(Span(self.stmt, i + 1, close))
                i = close
            i += 1
        return out

    def split(self, separator: str = ",") -> list[Span]:
        """The parts between ``separator`` words at the span's own parenthesis depth."""
        if self.start >= self.end:
            return []
        level = self.stmt.depth(self.start)
        parts: list[Span] = []
        begin = self.start
        for i in range(self.start, self.end):
            if self.stmt.kws[i] == separator and self.stmt.depth(i) == level:
                parts.append(Span(self.stmt, begin, i))
                begin = i + 1
        parts.append(Span(self.stmt, begin, self.end))
        return [p for p in parts if len(p)]

    def _identifier(self, i: int) -> str | None:
        """The folded name of word ``i`` when it is an identifier (not a reserved word)."""
        if not self.start <= i < self.end:
            return None
        kind = self.stmt.kind(i)
        if kind == "qident" or (kind == "ident" and self.stmt.kws[i] not in RESERVED):
            return self.stmt.name(i)
        return None


@dataclass(frozen=True, slots=True)
class AlterTable:
    """``ALTER TABLE [IF EXISTS] [ONLY] name [*] action [, action ...]``."""

    name: ObjectName
    if_exists: bool
    actions: list[Span]


class Tokens(NamedTuple):
    """A statement's words as parallel lists (Word objects are built only when asked for)."""

    kinds: list[TokenKind]
    texts: list[str]
    offsets: list[int]
    kws: list[str]

    def cut(self, start: int, end: int) -> Tokens:
        return Tokens(
            self.kinds[start:end],
            self.texts[start:end],
            self.offsets[start:end],
            self.kws[start:end],
        )


class Stmt(Span):
    """One statement of a file, or one statement inside a ``DO`` block's body.

    ``index`` is its place in ``FileContext.statements`` (which lists DO-body statements right
    after their DO), ``top`` the index of the file statement it belongs to (the DO itself for a
    body statement). The facts below are filled in by :mod:`sqlmig.lint.context`.
    """

    __slots__ = (
        "_depths",
        "_kinds",
        "_lines",
        "_offsets",
        "_texts",
        "_words",
        "column",
        "explicit_transaction",
        "guards",
        "handled_conditions",
        "in_transaction_block",
        "index",
        "is_routine",
        "kws",
        "line",
        "lock_timeout_ms",
        "lock_timeout_set_in_file",
        "offset",
        "parent",
        "source",
        "sql",
        "top",
        "transactional",
        "tx",
    )

    def __init__(
        self,
        source: str,
        sql: str,
        offset: int,
        tokens: Tokens,
        lines: LineIndex,
        position: tuple[int, int] | None = None,
    ) -> None:
        self.source = source
        self.sql = sql  # the statement's text as cut (no trailing ';')
        self.offset = offset
        self._lines = lines
        self.line, self.column = position or lines.position(offset)
        self.is_routine = _is_routine(tokens.kws)
        if self.is_routine:
            tokens = tokens.cut(0, _routine_body_start(tokens.kws))
        self._kinds, self._texts, self._offsets, kws = tokens
        self.kws: tuple[str, ...] = tuple(kws)
        self._words: tuple[Word, ...] | None = None
        self._depths: list[int] | None = None
        super().__init__(self, 0, len(kws))
        self.index = self.top = 0
        self.parent: Stmt | None = None  # the DO statement of a DO-body statement
        self.guards: frozenset[Guard] = frozenset()
        self.handled_conditions: frozenset[str] = frozenset()
        self.transactional = True
        self.tx = 0
        self.in_transaction_block = True
        self.explicit_transaction = False
        self.lock_timeout_ms = 0
        self.lock_timeout_set_in_file = False

    def __repr__(self) -> str:
        return f"Stmt(line={self.line}, sql={self.sql[:40]!r})"

    @property
    def words(self) -> tuple[Word, ...]:
        """Every word of the statement (a function's SQL-standard body excluded)."""
        if self._words is None:
            self._words = tuple(map(Word, self._kinds, self._texts, self.kws, self._offsets))
        return self._words

    @property
    def in_do(self) -> bool:
        """True for a statement inside a DO block's body."""
        return self.parent is not None

    @property
    def guarded(self) -> bool:
        """Inside a DO block that checks the catalog first or handles the error (see guards)."""
        return bool(self.guards)

    def word(self, i: int) -> Word:
        return Word(self._kinds[i], self._texts[i], self.kws[i], self._offsets[i])

    def kind(self, i: int) -> TokenKind | None:
        """The token kind of word ``i`` (None outside the statement)."""
        return self._kinds[i] if 0 <= i < self.end else None

    def name(self, i: int) -> str | None:
        """The identifier word ``i`` names (folded), None for any other word."""
        return _name(self._kinds[i], self._texts[i]) if 0 <= i < self.end else None

    def word_offset(self, i: int) -> int:
        return self._offsets[i]

    def word_end(self, i: int) -> int:
        return self._offsets[i] + len(self._texts[i])

    def position(self, i: int = 0) -> tuple[int, int]:
        """1-based (line, column) of word ``i`` in the file."""
        if not self.end:
            return self.line, self.column
        return self._lines.position(self._offsets[min(i, self.end - 1)])

    def depth(self, i: int) -> int:
        """Parenthesis depth of word ``i`` (a ``(`` and its ``)`` are at the outer depth)."""
        if self._depths is None:
            self._depths = _depths(self.kws)
        return self._depths[i]

    def alter_table(self) -> AlterTable | None:
        """The name and comma-separated actions of an ``ALTER TABLE``, else None."""
        i = self.match("ALTER TABLE")
        if i is None:
            return None
        if_exists = self.starts_with("IF", "EXISTS", at=i)
        i += 2 if if_exists else 0
        i += 1 if self.kw(i) == "ONLY" else 0
        name = self.name_at(i)
        if name is None:
            return None
        i = name.end + (1 if self.kw(name.end) == "*" else 0)
        return AlterTable(name, if_exists, Span(self, i, self.end).split())


class LineIndex:
    """1-based line and column of any offset of a text (bisect over its newlines)."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def offset(self, line: int) -> int:
        """Offset where 1-based ``line`` starts."""
        return self._starts[min(max(line, 1), len(self._starts)) - 1]


_SIMPLE: Final = frozenset({"ident", "punct", "number", "string", "qident"})


def scan(source: str, start: int, end: int, base: int = 0) -> Tokens:
    """The words of ``source[start:end]`` (which ends on a token boundary); offsets + ``base``.

    Matches :data:`TOKEN_RE` itself for the common tokens and asks :func:`iter_tokens` for the
    rest (comments, dollar quotes, operators), so both read exactly the same grammar.
    """
    kinds: list[TokenKind] = []
    texts: list[str] = []
    offsets: list[int] = []
    kws: list[str] = []
    match = TOKEN_RE.match
    pos = start
    while pos < end:
        m = match(source, pos)
        assert m is not None  # the 'other' alternative matches any character
        kind = m.lastgroup
        if kind == "ws" or kind == "comment":
            pos = m.end()
            continue
        if kind in _SIMPLE:
            text = m.group()
        else:
            token = next(iter_tokens(source, pos))
            kind, text = token.kind, token.text
            if kind == "comment":
                pos += len(text)
                continue
        kinds.append(kind)  # type: ignore[arg-type]
        texts.append(text)
        offsets.append(pos + base)
        kws.append(text.upper() if kind == "ident" else text if kind in _KEYWORD_KINDS else "")
        pos += len(text)
    return Tokens(kinds, texts, offsets, kws)


def from_cut(source: str, cut: Statement, lines: LineIndex) -> Stmt:
    """The model of one statement as the splitter cut it from ``source``."""
    end = cut.offset + len(cut.sql)
    tokens = scan(source, cut.offset, end)
    stmt = Stmt(source, cut.sql, cut.offset, tokens, lines, (cut.line, cut.column))
    stmt.transactional = cut.transactional
    return stmt


# -- helpers ------------------------------------------------------------------------------------


def _name(kind: TokenKind, text: str) -> str | None:
    if kind == "ident":
        return text.translate(_FOLD)
    if kind == "qident":
        return text[1:-1].replace('""', '"') if text[0] == '"' else text
    return None


@cache
def _choices(word: str) -> frozenset[str]:
    """``"A|B"`` -> {A, B}; an operator made of bars (``||``) is one word."""
    if "|" in word and word.strip("|"):
        return frozenset(word.upper().split("|"))
    return frozenset((word.upper(),))


def _depths(kws: tuple[str, ...]) -> list[int]:
    out: list[int] = []
    depth = 0
    for kw in kws:
        if kw == ")":
            depth = max(depth - 1, 0)
        out.append(depth)
        if kw == "(":
            depth += 1
    return out


def _is_routine(kws: list[str]) -> bool:
    i = 3 if kws[1:3] == ["OR", "REPLACE"] else 1
    return kws[:1] == ["CREATE"] and len(kws) > i and kws[i] in ("FUNCTION", "PROCEDURE")


def _routine_body_start(kws: list[str]) -> int:
    """Where a SQL-standard body starts (``BEGIN ATOMIC`` or ``RETURN expr``): its statements
    are the function's, never linted. Quoted bodies (``AS $$...$$``) are single words."""
    depth = 0
    for i, kw in enumerate(kws):
        depth += 1 if kw == "(" else -1 if kw == ")" else 0
        if depth:
            continue
        if kw == "RETURN" or (kw == "BEGIN" and kws[i + 1 : i + 2] == ["ATOMIC"]):
            return i
    return len(kws)


# -- patterns -----------------------------------------------------------------------------------


class _Step(NamedTuple):
    kind: Literal["word", "optional", "skip"]
    words: tuple[frozenset[str], ...]  # one set per word: a bracketed group may hold several


@cache
def _compile(pattern: str) -> tuple[_Step, ...]:
    """``[OR REPLACE]`` is one optional step of two words."""
    steps: list[_Step] = []
    group: list[frozenset[str]] | None = None
    for part in pattern.split():
        if group is not None or part.startswith("["):
            group = [] if group is None else group
            group.append(_choices(part.strip("[]")))
            if part.endswith("]"):
                steps.append(_Step("optional", tuple(group)))
                group = None
        elif part == "...":
            steps.append(_Step("skip", ()))
        else:
            steps.append(_Step("word", (_choices(part),)))
    return tuple(steps)


def _match(steps: tuple[_Step, ...], span: Span, k: int, i: int) -> int | None:
    for index in range(k, len(steps)):
        kind, words = steps[index]
        if kind == "skip":
            return _match_after_skip(steps, span, index + 1, i)
        if all(span.kw(i + n) in choices for n, choices in enumerate(words)):
            i += len(words)
        elif kind == "word":
            return None
    return i


def _match_after_skip(steps: tuple[_Step, ...], span: Span, k: int, i: int) -> int | None:
    while i <= span.end:
        end = _match(steps, span, k, i)
        if end is not None:
            return end
        i += 1
    return None


def iter_names(span: Span) -> Iterator[ObjectName]:
    """Every dotted name in ``span``, left to right (for rules that check identifiers)."""
    i = span.start
    while i < span.end:
        name = span.name_at(i)
        if name is None:
            i += 1
        else:
            yield name
            i = name.end
