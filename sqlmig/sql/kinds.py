"""What kind of statement this is: can it run in a transaction block, does it control one.

:data:`NON_TRANSACTIONAL` is the one list of statements PostgreSQL refuses inside a transaction
block (``ERROR: ... cannot run inside a transaction block``, SQLSTATE 25001). Statements are
read as words from the token stream, so comments between keywords, mixed case and quoted
identifiers (``"concurrently"`` is a name, not a keyword) cannot fool it. Some refusals depend on
the database, not the text (``CLUSTER`` or ``REINDEX`` of a partitioned table, ``DROP
SUBSCRIPTION`` of one without a slot); PostgreSQL's own error is the final word, and the executor
reports it as any other SQL error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Final, Literal, NamedTuple

from sqlmig.sql.lexer import IDENT_CHAR, START_CHAR, iter_tokens

_FOLD: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_FALSE: Final = frozenset({"false", "off", "0"})  # what defGetBoolean reads as false
_NAMEDATALEN: Final = 64
_PLAIN_WORD: Final = re.compile(rf"[A-Za-z_]++(?!{IDENT_CHAR})")
_NAME_START: Final = re.compile(rf'"|{START_CHAR}')  # a quoted or unquoted name


class _Step(NamedTuple):
    kind: Literal["word", "optional", "group", "skip", "end"]  # see Shape
    words: frozenset[str] = frozenset()


class Shape(NamedTuple):
    """A statement shape: the words a statement starts with, and conditions on its options.

    ``pattern`` is matched word by word from the start of the statement: ``WORD`` must come
    next (``A|B``: either), ``[A|B]`` may come next, ``[()]`` skips an optional parenthesised
    option list, ``...`` skips any words, ``$`` is the end of the statement. ``unless_false``:
    a ``WITH (option = false)`` that makes the statement transactional again; ``only_with``: the
    rule applies only when one of these options is given (in ``WITH (...)`` or ``SET (...)``).
    """

    pattern: str
    unless_false: tuple[str, ...] = ()
    only_with: tuple[str, ...] = ()

    def matches(self, words: _Words) -> bool:
        steps = _compile(self.pattern)
        if _key(self.pattern) not in words.lowered:
            return False  # cheap: its most telling keyword is nowhere in the text
        if not _match(steps, words, 0, 0):
            return False
        if not (self.unless_false or self.only_with):
            return True
        options = _options(words)
        if self.only_with and not any(name in options for name in self.only_with):
            return False
        return not any(options.get(name) in _FALSE for name in self.unless_false)


NON_TRANSACTIONAL: Final[tuple[Shape, ...]] = (
    Shape("CREATE [UNIQUE] INDEX CONCURRENTLY"),
    Shape("DROP INDEX CONCURRENTLY"),
    Shape("REINDEX ... CONCURRENTLY"),
    Shape("REINDEX [()] SCHEMA|DATABASE|SYSTEM"),
    Shape("ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY"),
    Shape("VACUUM"),
    Shape("CLUSTER [()] [VERBOSE] $"),  # without a table: every clustered table
    Shape("CREATE DATABASE"),
    Shape("DROP DATABASE"),
    Shape("ALTER DATABASE ... SET TABLESPACE"),
    Shape("CREATE TABLESPACE"),
    Shape("DROP TABLESPACE"),
    Shape("ALTER SYSTEM"),
    Shape("DISCARD ALL"),
    # connect = false implies create_slot = false
    Shape("CREATE SUBSCRIPTION", unless_false=("create_slot", "connect")),
    Shape("DROP SUBSCRIPTION"),  # transactional only without a slot: cannot tell
    Shape("ALTER SUBSCRIPTION ... REFRESH PUBLICATION"),  # even with copy_data = false
    Shape("ALTER SUBSCRIPTION ... SET|ADD|DROP PUBLICATION", unless_false=("refresh",)),
    Shape("ALTER SUBSCRIPTION ... SET", only_with=("failover", "two_phase")),  # PG 17+
    Shape("COMMIT PREPARED"),
    Shape("ROLLBACK PREPARED"),
)

TRANSACTION_CONTROL: Final[tuple[Shape, ...]] = tuple(
    Shape(pattern)
    for pattern in (
        "BEGIN|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE",
        "START TRANSACTION",
        "PREPARE TRANSACTION",
    )
)


def is_transactional(sql: str) -> bool:
    """False when PostgreSQL refuses to run ``sql`` in a transaction block.

    ``sql`` is one statement as :func:`sqlmig.sql.split.split_statements` cut it (whole tokens;
    leading comments are fine).
    """
    words = _Words(sql)  # reads no token until asked
    plain = _PLAIN_WORD.match(sql)  # most statements start with one: no tokens needed
    first = plain.group().lower() if plain else words.get(0)
    rules = _BY_FIRST_WORD.get(first or "", ())
    return not any(rule.matches(words) for rule in rules)


def is_transaction_control(sql: str) -> bool:
    """True for BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT, RELEASE and
    PREPARE TRANSACTION (and COMMIT/ROLLBACK PREPARED); a DO block or a function with a
    ``BEGIN ATOMIC`` body is not one."""
    words = _Words(sql)
    plain = _PLAIN_WORD.match(sql)  # as in is_transactional: most need no token
    if (plain.group().lower() if plain else words.get(0)) not in _CONTROL_FIRST_WORDS:
        return False
    return any(rule.matches(words) for rule in TRANSACTION_CONTROL)


def is_concurrent_index_build(sql: str) -> str | None:
    """The index name of ``CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON ...``.

    Unquoted names are folded to lower case, quoted ones kept as written (without the quotes;
    a rare ``U&"..."`` name is returned as written, escapes and all), both truncated to 63 bytes
    as the server does. None for any other statement, and for an unnamed build
    (``CREATE INDEX CONCURRENTLY ON t (c)``), whose name the server chooses.
    """
    words = _Words(sql)
    if not _CONCURRENT_INDEX.matches(words):
        return None
    i = 4 if words.get(1) == "unique" else 3
    if [words.get(i), words.get(i + 1), words.get(i + 2)] == ["if", "not", "exists"]:
        i += 3
    parts = [words.get(i)]
    while words.get(i + 1) == ".":  # not valid for CREATE INDEX, but kept as written
        parts.append(words.get(i + 2))
        i += 2
    names = [_identifier(part) for part in parts]
    if words.get(i + 1) != "on" or None in names:
        return None
    return ".".join(_truncate(name) for name in names if name is not None)


def is_concurrent_reindex(sql: str) -> bool:
    """True for ``REINDEX ... CONCURRENTLY``, which leaves ``*_ccnew`` indexes when it fails."""
    return _CONCURRENT_REINDEX.matches(_Words(sql))


# -- words --------------------------------------------------------------------------------------


class _Words:
    """The statement's words, read from the token stream only as far as a rule looks.

    A word is an unquoted identifier folded to lower case, or a marked value that never equals
    a keyword: ``"name`` for a quoted identifier or one after ``.``, ``'text`` for a string;
    punctuation, operators and numbers are their own text.
    """

    def __init__(self, sql: str) -> None:
        self._sql = sql
        self._source = _iter_words(sql)
        self._seen: list[str] = []
        self._lowered: str | None = None

    @property
    def lowered(self) -> str:
        """The whole statement in lower case, for substring tests."""
        if self._lowered is None:
            self._lowered = self._sql.lower()
        return self._lowered

    def get(self, index: int) -> str | None:
        while len(self._seen) <= index:
            word = next(self._source, None)
            if word is None:
                return None
            self._seen.append(word)
        return self._seen[index]


def _iter_words(sql: str) -> Iterator[str]:
    prev = ""
    for tok in iter_tokens(sql):
        kind, text = tok.kind, tok.text
        if kind == "ws" or kind == "comment":
            continue
        if kind == "ident":
            text = text.translate(_FOLD)
            if prev == ".":
                text = '"' + text
        elif kind == "qident":
            text = '"' + text[1:-1].replace('""', '"') if text[0] == '"' else '"' + text
        elif kind == "string":
            text = "'" + (text[1:-1].replace("''", "'") if text[0] == "'" else text)
        yield text
        prev = text


def _identifier(word: str | None) -> str | None:
    """The name a word stands for, or None when it is not an identifier."""
    if word is None or not _NAME_START.match(word):
        return None
    return word[1:] if word[0] == '"' else word


def _truncate(name: str) -> str:
    """The server keeps the first NAMEDATALEN - 1 bytes of a name, never half a character."""
    encoded = name.encode()
    if len(encoded) < _NAMEDATALEN:
        return name
    return encoded[: _NAMEDATALEN - 1].decode(errors="ignore")


def _options(words: _Words) -> dict[str, str]:
    """``name [= value]`` pairs of every ``WITH (...)``/``SET (...)`` list, values folded."""
    options: dict[str, str] = {}
    i = 0
    while (word := words.get(i)) is not None:
        i += 1
        if word in ("with", "set") and words.get(i) == "(":
            i = _read_options(words, i + 1, options)
    return options


def _read_options(words: _Words, i: int, options: dict[str, str]) -> int:
    """Read one option list from after its ``(``; return the index after its ``)``."""
    while (name := words.get(i)) is not None and name != ")":
        value = "true"
        if words.get(i + 1) == "=":
            value = (words.get(i + 2) or "").lstrip("'").lower()
            i += 2
        options[name.lstrip('"')] = value
        i += 1
        if words.get(i) == ",":
            i += 1
    return i + 1


# -- patterns -------------------------------------------------------------------------------------


@cache
def _compile(pattern: str) -> tuple[_Step, ...]:
    steps: list[_Step] = []
    for part in pattern.lower().split():
        if part == "...":
            steps.append(_Step("skip"))
        elif part == "$":
            steps.append(_Step("end"))
        elif part == "[()]":
            steps.append(_Step("group"))
        elif part.startswith("["):
            steps.append(_Step("optional", frozenset(part.strip("[]").split("|"))))
        else:
            steps.append(_Step("word", frozenset(part.split("|"))))
    return tuple(steps)


@cache
def _key(pattern: str) -> str:
    """The longest keyword every statement of this shape contains ('' when there is none)."""
    required = [step.words for step in _compile(pattern) if step.kind == "word"]
    return max((next(iter(w)) for w in required if len(w) == 1), key=len, default="")


def _match(steps: tuple[_Step, ...], words: _Words, i: int, j: int) -> bool:
    """Whether ``steps[i:]`` match the words from ``j``; ``...`` backtracks."""
    for index in range(i, len(steps)):
        step = steps[index]
        word = words.get(j)
        if step.kind == "skip":
            return _match_after_skip(steps, words, index + 1, j)
        if step.kind == "end":
            return word is None
        if step.kind == "group":
            j = _after_group(words, j) if word == "(" else j
        elif word in step.words:
            j += 1
        elif step.kind == "word":
            return False
    return True


def _match_after_skip(steps: tuple[_Step, ...], words: _Words, i: int, j: int) -> bool:
    while words.get(j) is not None:
        if _match(steps, words, i, j):
            return True
        j += 1
    return _match(steps, words, i, j)


def _after_group(words: _Words, j: int) -> int:
    """Index after the parenthesised list that opens at ``j``."""
    depth = 0
    while (word := words.get(j)) is not None:
        j += 1
        depth += 1 if word == "(" else -1 if word == ")" else 0
        if depth == 0:
            break
    return j


_BY_FIRST_WORD: Final[dict[str, tuple[Shape, ...]]] = {
    first: tuple(rule for rule in NON_TRANSACTIONAL if first in _compile(rule.pattern)[0].words)
    for rule in NON_TRANSACTIONAL
    for first in _compile(rule.pattern)[0].words
}
_CONTROL_FIRST_WORDS: Final = frozenset(
    word for rule in TRANSACTION_CONTROL for word in _compile(rule.pattern)[0].words
)
_CONCURRENT_INDEX: Final = Shape("CREATE [UNIQUE] INDEX CONCURRENTLY")
_CONCURRENT_REINDEX: Final = Shape("REINDEX ... CONCURRENTLY")
