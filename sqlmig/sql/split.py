"""Cut a migration file into statements exactly where PostgreSQL would.

A ``;`` ends a statement unless it is inside a quote, a comment, parentheses
(``CREATE RULE ... DO ALSO (a; b)``) or the ``BEGIN ATOMIC ... END`` body of a SQL-standard
function or procedure. Most statements are scanned in runs (:data:`lexer.CHUNK_RE`); the few that
need words (``CREATE FUNCTION``/``PROCEDURE``, ``COPY``) are read token by token. Both patterns
come from the same lexical fragments, and the test suite checks that both paths cut alike.
"""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple

from sqlmig.sql.kinds import is_transactional
from sqlmig.sql.lexer import (
    CHUNK_RE,
    LINE_COMMENT,
    WS,
    WS_CHARS,
    SplitError,
    block_comment_end,
    dollar_quote_end,
    iter_tokens,
    line_column,
    unterminated,
)

__all__ = ["SplitError", "Statement", "split_statements"]

_NOT_PARENS: Final = re.compile(r"[^()]++")
_BLANK: Final = re.compile(rf"(?P<ws>{WS})|(?P<comment>{LINE_COMMENT})|(?P<block>/\*)")
_META: Final = re.compile(r"\\[^\s]*")
_ROUTINE: Final = (["function"], ["procedure"])

Head = Literal["", "routine", "copy"]


class Statement(NamedTuple):
    """One statement as cut from a file (``text[offset:offset + len(sql)] == sql``).

    ``sql`` runs from the first token to the end of the last one: no leading or trailing
    whitespace or comments, no terminating ``;``. ``leading_comments`` holds the comments
    between the previous statement's ``;`` (or the start of the file) and this statement, one per
    line, for directives and lint suppressions.
    """

    sql: str
    line: int
    column: int
    offset: int
    transactional: bool
    leading_comments: str


def split_statements(text: str) -> list[Statement]:
    """The statements of ``text`` (no BOM, LF newlines), in order.

    Comment-only fragments and empty statements (``;;``) are dropped; a last statement without
    ``;`` is kept. Raises :class:`SplitError` (a ``MigrationFileError``) for an unterminated
    quote or comment, a psql meta-command, or ``COPY ... FROM stdin``.
    """
    return _split(text, by_tokens=False)


def _split(text: str, *, by_tokens: bool) -> list[Statement]:
    """``by_tokens`` reads every statement token by token: the slow reference for the tests."""
    statements: list[Statement] = []
    lines = _Lines(text)
    comments: list[str] = []
    pos = 0
    while (start := _skip_blank(text, pos, comments)) < len(text):
        if text[start] == ";":  # empty statement; its comments carry over to the next one
            pos = start + 1
            continue
        end, pos = _scan_tokens(text, start, "") if by_tokens else _scan_fast(text, start)
        sql = text[start:end].rstrip(WS_CHARS)  # a run may carry whitespace after its last token
        if _may_need_words(sql) and (head := _head(text, start)):
            end, pos = _scan_tokens(text, start, head)  # the plain cut may have been too short
            sql = text[start:end]
        line, column = lines.at(start)
        leading = "\n".join(comments)
        statements.append(Statement(sql, line, column, start, is_transactional(sql), leading))
        comments = []
    return statements


def _skip_blank(text: str, pos: int, comments: list[str]) -> int:
    """Offset of the next token after whitespace and comments, collecting the comments."""
    match = _BLANK.match
    while m := match(text, pos):
        if m.lastgroup == "ws":
            pos = m.end()
        else:
            end = block_comment_end(text, pos) if m.lastgroup == "block" else m.end()
            comments.append(text[pos:end])
            pos = end
    return pos


def _scan_fast(text: str, pos: int) -> tuple[int, int]:
    """(end of the statement's last token, offset after its ``;``) for a statement at ``pos``.

    Runs of tokens are matched whole; only their parentheses are counted.
    """
    match = CHUNK_RE.match
    size = len(text)
    depth = 0
    end = pos
    while pos < size:
        m = match(text, pos)
        assert m is not None
        kind = m.lastgroup
        nxt = m.end()
        if kind == "run":
            chunk = m.group()
            if ")" in chunk or "(" in chunk:
                depth = _depth(chunk, depth)
            end = nxt
        elif kind == "semi":
            if depth == 0:
                return end, nxt
            end = nxt
        elif kind == "string" or kind == "qident":
            end = nxt
        elif kind == "dollar":
            end = nxt = dollar_quote_end(text, pos, m.group())
        elif kind == "block":
            nxt = block_comment_end(text, pos)
        elif kind != "ws" and kind != "comment":
            raise _bad_chunk(text, pos, m.group())
        pos = nxt
    return end, size


def _depth(chunk: str, depth: int) -> int:
    """Parenthesis depth after the run ``chunk``; like psql, a ``)`` at depth 0 is ignored."""
    closed = chunk.count(")")
    if depth >= closed:  # depth cannot have touched zero inside this chunk
        return depth + chunk.count("(") - closed
    parens = _NOT_PARENS.sub("", chunk)
    while "()" in parens:  # what is left is ")" * unmatched + "(" * opened
        parens = parens.replace("()", "")
    unmatched = parens.count(")")
    return max(depth - unmatched, 0) + len(parens) - unmatched


def _scan_tokens(text: str, pos: int, head: Head) -> tuple[int, int]:
    """Token by token, for statements whose words matter (see :func:`_head`)."""
    depth = atomic = 0
    end = pos
    prev = ""
    for tok in iter_tokens(text, pos):
        kind, word = tok.kind, tok.text
        if kind == "ws" or kind == "comment":
            continue
        if kind == "punct":
            if word == "(":
                depth += 1
            elif word == ")":
                depth = max(depth - 1, 0)
            elif word == ";" and depth == 0 and atomic == 0:
                return end, tok.offset + 1
        elif kind == "ident" and depth == 0:
            word = word.lower()
            if head == "copy" and prev == "from" and word == "stdin":
                raise _copy_from_stdin(text, pos)
            if head == "routine":
                atomic = _atomic_depth(atomic, prev, word)
        elif kind == "other" and word == "\\":
            raise _bad_chunk(text, tok.offset, word)
        end = tok.offset + len(tok.text)
        prev = word
    return end, len(text)


def _atomic_depth(depth: int, prev: str, word: str) -> int:
    """Nesting inside ``BEGIN ATOMIC ... END``, where ``;`` does not end the statement.

    As psql does, CASE ... END nests too (counted at parenthesis depth 0 only). Unlike psql,
    a bare BEGIN does not count (a function may be named ``begin``), nor do ``case``/``end``
    used as labels after ``.`` or ``AS`` (the server's grammar accepts ``SELECT 1 AS end``).
    """
    if word == "atomic" and prev == "begin":
        return depth + 1
    if depth and prev != "." and prev != "as":
        if word == "case":
            return depth + 1
        if word == "end":
            return depth - 1
    return depth


def _may_need_words(sql: str) -> bool:
    """Only statements with these words can need the token scanner (BEGIN ATOMIC, COPY FROM
    stdin); a plain cut of such a statement still contains the word, which is all this needs."""
    lowered = sql.lower()
    return "atomic" in lowered or "stdin" in lowered


def _head(text: str, start: int) -> Head:
    """'routine' for CREATE [OR REPLACE] FUNCTION|PROCEDURE, 'copy' for COPY, else ''."""
    words: list[str] = []
    for tok in iter_tokens(text, start):
        if tok.kind == "ws" or tok.kind == "comment":
            continue
        if tok.kind != "ident" or len(words) == 4:
            break
        words.append(tok.text.lower())
    if words[:1] == ["copy"]:
        return "copy"
    if words[1:3] == ["or", "replace"]:
        del words[1:3]
    return "routine" if words[:1] == ["create"] and words[1:2] in _ROUTINE else ""


def _bad_chunk(text: str, pos: int, chunk: str) -> SplitError:
    if chunk != "\\":
        return unterminated(text, pos, chunk)
    m = _META.match(text, pos)
    command = m.group() if m else chunk
    line, column = line_column(text, pos)
    return SplitError(
        f"psql meta-command {command} at line {line}, column {column}: backslash commands "
        "are read by psql, not by the server",
        "write plain SQL instead (for example SET instead of \\set); sqlmig does not run psql",
        line,
        column,
    )


def _copy_from_stdin(text: str, pos: int) -> SplitError:
    line, column = line_column(text, pos)
    return SplitError(
        f"COPY ... FROM stdin at line {line}, column {column}: the data lines after it are "
        "read by psql, not by the server",
        "use INSERT statements, or COPY ... FROM '/path/on/the/server' for a file the server "
        "can read",
        line,
        column,
    )


class _Lines:
    """Line and column of increasing offsets without rescanning the text from the start."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._offset = 0
        self._line = 1

    def at(self, offset: int) -> tuple[int, int]:
        self._line += self._text.count("\n", self._offset, offset)
        self._offset = offset
        return self._line, offset - self._text.rfind("\n", 0, offset)
