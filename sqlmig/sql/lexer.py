"""PostgreSQL's lexical grammar (standard_conforming_strings = on) as one set of regex fragments.

The fragments follow the server's ``scan.l`` and psql's ``psqlscan.l``, where a few facts decide
where statements end: a dollar quote ``$tag$`` needs a tag shaped like an identifier without
``$`` and ends at the first identical delimiter; ``$`` inside an identifier (``a$b``) or before a
digit (``$1``) starts no quote; only ``E''`` strings know backslash escapes (and continue across
``'...'<newline>'...'``); block comments nest; ``--`` and ``/*`` end an operator. Two patterns are
built from the same fragments: :data:`TOKEN_RE` yields one token per match (for :func:`tokenize`
and anything needing words), :data:`CHUNK_RE` merges runs of tokens that cannot end a statement
(for the fast splitter). Possessive quantifiers keep both linear and make an unterminated quote
fall through to its ``bad_*`` group instead of matching something shorter.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator
from typing import Final, Literal, NamedTuple, cast

from sqlmig.errors import MigrationFileError

TokenKind = Literal[
    "ws",
    "comment",
    "string",
    "dollar",
    "qident",
    "ident",  # keywords included, as in psql's lexer
    "number",
    "param",
    "op",
    "punct",
    "other",
]


class Token(NamedTuple):
    """One lexical token; ``text`` is exactly ``source[offset:offset + len(text)]``."""

    kind: TokenKind
    text: str
    offset: int


class SplitError(MigrationFileError):
    """The text cannot be cut into statements; ``line``/``column`` (1-based) say where."""

    def __init__(self, message: str, hint: str, line: int, column: int) -> None:
        super().__init__(message, hint)
        self.line = line
        self.column = column


# -- fragments (the one lexical grammar) ------------------------------------------------------


def _with_non_ascii(ascii_chars: str) -> str:
    r"""The class ``[<ascii_chars>\x80-\U0010FFFF]`` written as the negation of the rest of ASCII.

    The same set of characters, but ``re`` compiles a class with a range up to U+10FFFF into big
    tables, in milliseconds per occurrence: tens of milliseconds on every sqlmig start."""
    return "[^" + _ranges(i for i in range(128) if chr(i) not in ascii_chars) + "]"


def _ascii_except(chars: str) -> str:
    r"""The class of the ASCII characters not in ``chars`` (``[^<chars>\x80-\U0010FFFF]``)."""
    return "[" + _ranges(i for i in range(128) if chr(i) not in chars) + "]"


def _ranges(codes: Iterable[int]) -> str:
    r"""Code points as the inside of a class, runs written as ranges (``\x00-\x2f``): one
    escape per character would make ``re`` parse a class several times as long."""
    runs: list[list[int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(f"\\x{a:02x}" if a == b else f"\\x{a:02x}-\\x{b:02x}" for a, b in runs)


_LETTERS = string.ascii_letters + "_"
# PostgreSQL: every byte >= 0x80 is an identifier letter
START_CHAR: Final = _with_non_ascii(_LETTERS)
IDENT_CHAR: Final = _with_non_ascii(_LETTERS + string.digits + "$")
_TAG_CHAR = _with_non_ascii(_LETTERS + string.digits)
WS_CHARS: Final = " \t\n\r\f\v"
WS: Final = r"[ \t\n\r\f\v]++"
LINE_COMMENT: Final = r"--[^\n\r]*+"
IDENT: Final = rf"{START_CHAR}{IDENT_CHAR}*+"
DOLLAR_DELIM: Final = rf"\$(?:{START_CHAR}{_TAG_CHAR}*+)?\$"
PARAM: Final = r"\$[0-9]++"
# After a closing quote, a newline-containing gap and another quote continue the same literal;
# it only changes meaning for E'' strings (the continuation is read with backslash escapes).
_CONT = r"(?:[ \t\f\v]|--[^\n\r]*+)*+[\n\r](?:[ \t\n\r\f\v]++|--[^\n\r]*+[\n\r])*+"
_E_BODY = r"(?:[^\\']++|\\[\s\S]|'')*+'"
_Q_BODY = r"(?:[^']++|'')*+'"
STRING: Final = (
    rf"[eE]'{_E_BODY}(?:{_CONT}'{_E_BODY})*+"
    rf"|[uU]&'{_Q_BODY}|[bBxX]'[^']*+'|[nN]?'{_Q_BODY}"
)
QIDENT: Final = r"(?:[uU]&)?\"(?:[^\"]++|\"\")*+\""
BAD_STRING: Final = r"[eE]'|[uU]&'|[bBxX]'|[nN]?'"  # tried only after STRING failed
BAD_QIDENT: Final = r"(?:[uU]&)?\""
# PostgreSQL 15's numbers; 16+ also reads 0x1F, 0o17, 0b101 and 1_000 as one number, which
# changes no statement boundary (an identifier glued to a number is an error there).
NUMBER: Final = r"(?:[0-9]++(?:\.(?!\.)[0-9]*+)?|\.[0-9]++)(?:[eE][-+]?[0-9]++)?"
OP: Final = r"(?:[~!@#^&|`?+*%<>=]|-(?!-)|/(?!\*))++"
PUNCT: Final = r"::|:=|\.\.|[,()\[\];:.]"

TOKEN_RE: Final = re.compile(
    "|".join(
        f"(?P<{name}>{pattern})"
        for name, pattern in (
            ("ws", WS),
            ("comment", LINE_COMMENT),
            ("block", r"/\*"),
            ("string", STRING),
            ("qident", QIDENT),
            ("dollar", DOLLAR_DELIM),
            ("bad_string", BAD_STRING),
            ("bad_qident", BAD_QIDENT),
            ("param", PARAM),
            ("ident", IDENT),
            ("number", NUMBER),
            ("punct", PUNCT),
            ("op", OP),
            ("other", r"[\s\S]"),
        )
    )
)

# A run is any sequence of tokens that can neither end a statement nor hide a ';' or a
# parenthesis from the splitter, which counts a run's parentheses with str.count: identifiers
# (never one that is really a string prefix such as E'), numbers, operators, punctuation except
# ';', strings (standard or E'' not continued on the next line) and quoted identifiers without
# parentheses, whitespace inside. Every other quoted token is a chunk of its own.
_NOT_PREFIX = "".join(c for c in string.ascii_letters if c not in "bBeEnNuUxX")
_RUN_IDENT = (
    rf"(?:{_with_non_ascii(_NOT_PREFIX + '_')}|[bBeEnNxX](?!')|[uU](?!&['\"])){IDENT_CHAR}*+"
)
_RUN_ITEM = "|".join(
    (
        _RUN_IDENT,
        _ascii_except(WS_CHARS + "'\"$;\\/-." + string.digits + _LETTERS)
        + "++",  # operators and punctuation but - / ; $ .
        NUMBER,
        r"\.",
        r"-(?!-)",
        r"/(?!\*)",
        PARAM,
        rf"\$(?!(?:{START_CHAR}{_TAG_CHAR}*+)?\$)",
        r"'(?:[^'()]++|'')*+'",
        rf"[eE]'(?:[^\\'()]++|\\[^()]|'')*+'(?!{_CONT}')",
        r'"(?:[^"()]++|"")*+"',
    )
)
CHUNK_RE: Final = re.compile(
    "|".join(
        f"(?P<{name}>{pattern})"
        for name, pattern in (
            ("ws", WS),
            ("comment", LINE_COMMENT),
            ("block", r"/\*"),
            ("semi", ";"),
            ("dollar", DOLLAR_DELIM),
            ("run", rf"(?:{_RUN_ITEM})(?:{_RUN_ITEM}|{WS})*+"),
            ("string", STRING),
            ("qident", QIDENT),
            ("bad_string", BAD_STRING),
            ("bad_qident", BAD_QIDENT),
            ("backslash", r"\\"),
        )
    )
)

_COMMENT_EDGE: Final = re.compile(r"/\*|\*/")
_SQL_OPERATOR_CHARS: Final = frozenset("~!@#^&|`?%")


# -- tokens ------------------------------------------------------------------------------------


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, whitespace and comments included; raises :class:`SplitError`."""
    return list(iter_tokens(text))


def iter_tokens(text: str, pos: int = 0) -> Iterator[Token]:
    """Tokens from ``pos`` on, read lazily (callers that need only the first words stop early)."""
    match = TOKEN_RE.match
    size = len(text)
    while pos < size:
        m = match(text, pos)
        assert m is not None  # the 'other' alternative matches any character
        kind = m.lastgroup
        end = m.end()
        if kind == "block":
            kind, end = "comment", block_comment_end(text, pos)
        elif kind == "dollar":
            end = dollar_quote_end(text, pos, m.group())
        elif kind == "op":
            end = pos + _operator_length(m.group())
        elif kind in ("bad_string", "bad_qident"):
            raise unterminated(text, pos, m.group())
        yield Token(cast(TokenKind, kind), text[pos:end], pos)
        pos = end


def block_comment_end(text: str, start: int) -> int:
    """End offset of the (nested) block comment opening at ``start``."""
    depth = 0
    for m in _COMMENT_EDGE.finditer(text, start):
        depth += 1 if m.group() == "/*" else -1
        if depth == 0:
            return m.end()
    raise _error(text, start, "unterminated /* comment", "close it with */ (comments nest)")


def dollar_quote_end(text: str, start: int, delimiter: str) -> int:
    """End offset of the dollar-quoted string whose opening ``delimiter`` is at ``start``."""
    close = text.find(delimiter, start + len(delimiter))
    if close < 0:
        raise _error(
            text,
            start,
            f"unterminated dollar-quoted string {delimiter}",
            f"end the quoted text with {delimiter}",
        )
    return close + len(delimiter)


def unterminated(text: str, start: int, opening: str) -> SplitError:
    """The error for a quote that opens at ``start`` and never closes."""
    prefix = opening[0].lower()
    if opening.endswith('"'):
        what, hint = "quoted identifier", 'close it with " (write "" for a " inside)'
    elif prefix == "b":
        what, hint = "bit string literal", "close it with '"
    elif prefix == "x":
        what, hint = "hexadecimal string literal", "close it with '"
    elif prefix == "e":
        what = "quoted string E'...'"
        hint = "close it with '; inside E'' a backslash escapes the next character (\\\\ is one \\)"
    else:
        what, hint = "quoted string", "close it with ' (write '' for a ' inside)"
    return _error(text, start, f"unterminated {what}", hint)


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``offset``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _error(text: str, start: int, what: str, hint: str) -> SplitError:
    line, column = line_column(text, start)
    return SplitError(f"{what} starting at line {line}, column {column}", hint, line, column)


def _operator_length(op: str) -> int:
    """PostgreSQL's rule: a multi-char operator sheds trailing + and - (so ``=-1`` is ``=`` ``-1``)
    unless it contains a character that no SQL-standard operator uses."""
    size = len(op)
    if size > 1 and op[-1] in "+-" and not _SQL_OPERATOR_CHARS.intersection(op):
        while size > 1 and op[size - 1] in "+-":
            size -= 1
    return size
