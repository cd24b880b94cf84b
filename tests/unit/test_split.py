"""The splitter cuts where PostgreSQL does: one case per construct of SPEC section 6."""

from __future__ import annotations

import random

import pytest

from sqlmig.errors import MigrationFileError
from sqlmig.sql.lexer import Token, tokenize
from sqlmig.sql.split import SplitError, Statement, _split, split_statements

# (behaviour, file text, statements as cut)
CUTS: list[tuple[str, str, list[str]]] = [
    ("two plain statements", "SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
    ("last statement needs no semicolon", "SELECT 1;\nSELECT 2\n", ["SELECT 1", "SELECT 2"]),
    ("empty statements are dropped", ";;SELECT 1;;\n;", ["SELECT 1"]),
    ("comment-only tail is dropped", "SELECT 1;\n-- the end\n/* really */\n", ["SELECT 1"]),
    ("empty file", "", []),
    ("comment-only file", "-- nothing here;\n", []),
    (
        "dollar quote $$ hides semicolons",
        "DO $$ BEGIN PERFORM 1; END $$; SELECT 2",
        ["DO $$ BEGIN PERFORM 1; END $$", "SELECT 2"],
    ),
    (
        "dollar quote with a tag ends only at the same tag",
        "SELECT $fn$ a; $$ ; $fn$; SELECT 2",
        ["SELECT $fn$ a; $$ ; $fn$", "SELECT 2"],
    ),
    (
        "nested dollar quotes with different tags",
        "CREATE FUNCTION f() RETURNS void AS $outer$ BEGIN EXECUTE $inner$ SELECT 1; $inner$; "
        "END $outer$ LANGUAGE plpgsql; SELECT 2",
        [
            "CREATE FUNCTION f() RETURNS void AS $outer$ BEGIN EXECUTE $inner$ SELECT 1; "
            "$inner$; END $outer$ LANGUAGE plpgsql",
            "SELECT 2",
        ],
    ),
    (
        "dollar-quote delimiter mismatch keeps the last $ for the real one",
        "SELECT $a$ x $b$a$; SELECT 2",
        ["SELECT $a$ x $b$a$", "SELECT 2"],
    ),
    (
        "positional parameters are not dollar quotes",
        "PREPARE q AS SELECT $1, $2; EXECUTE q(1, 2)",
        ["PREPARE q AS SELECT $1, $2", "EXECUTE q(1, 2)"],
    ),
    (
        "a tag cannot start with a digit ($1tag$ starts no quote)",
        "SELECT $1tag$; SELECT 2",
        ["SELECT $1tag$", "SELECT 2"],
    ),
    (
        "$ inside an identifier starts no quote",
        "SELECT a$b$c FROM t; SELECT 2",
        ["SELECT a$b$c FROM t", "SELECT 2"],
    ),
    (
        "a lone $ before a name starts no quote",
        "SELECT $x; SELECT 2",
        ["SELECT $x", "SELECT 2"],
    ),
    (
        "E string with escaped quote",
        "SELECT E'it\\'s; here'; SELECT 2",
        ["SELECT E'it\\'s; here'", "SELECT 2"],
    ),
    (
        "E string ending in an escaped backslash",
        "SELECT E'\\\\'; SELECT ';'",
        ["SELECT E'\\\\'", "SELECT ';'"],
    ),
    (
        "lower-case e prefix",
        "SELECT e'\\';'; SELECT 2",
        ["SELECT e'\\';'", "SELECT 2"],
    ),
    (
        "E string continued on the next line keeps its escapes",
        "SELECT E'a'\n'\\'; x'; SELECT 2",
        ["SELECT E'a'\n'\\'; x'", "SELECT 2"],
    ),
    (
        "standard string ending in a backslash",
        "SELECT 'C:\\'; SELECT 2",
        ["SELECT 'C:\\'", "SELECT 2"],
    ),
    (
        "LIKE ... ESCAPE with backslashes",
        "SELECT 'a_b' LIKE 'a\\_b' ESCAPE '\\'; SELECT 2",
        ["SELECT 'a_b' LIKE 'a\\_b' ESCAPE '\\'", "SELECT 2"],
    ),
    (
        "doubled quotes inside a string",
        "SELECT 'it''s; fine'; SELECT ''''",
        ["SELECT 'it''s; fine'", "SELECT ''''"],
    ),
    (
        "string continuation across a newline",
        "SELECT 'a;'\n'b;'; SELECT 2",
        ["SELECT 'a;'\n'b;'", "SELECT 2"],
    ),
    (
        "U& string and U& identifier",
        "SELECT U&'d\\0061t;' AS U&\"x;y\"; SELECT 2",
        ["SELECT U&'d\\0061t;' AS U&\"x;y\"", "SELECT 2"],
    ),
    (
        "B, X and N strings",
        "SELECT B'0101', X'ff', N'a;b', n'c;d'; SELECT 2",
        ["SELECT B'0101', X'ff', N'a;b', n'c;d'", "SELECT 2"],
    ),
    (
        "quoted identifier with doubled quote and semicolon",
        'SELECT 1 AS "a"";b"; SELECT 2',
        ['SELECT 1 AS "a"";b"', "SELECT 2"],
    ),
    (
        "nested block comments",
        "SELECT 1 /* a /* b; */ c; */ + 1; SELECT 2",
        ["SELECT 1 /* a /* b; */ c; */ + 1", "SELECT 2"],
    ),
    (
        "line comment with a semicolon and a quote",
        "SELECT 1 -- it's; here\n+ 1; SELECT 2",
        ["SELECT 1 -- it's; here\n+ 1", "SELECT 2"],
    ),
    (
        "-- ends an operator and starts a comment",
        "SELECT 1 +-- c;\n2; SELECT 3",
        ["SELECT 1 +-- c;\n2", "SELECT 3"],
    ),
    (
        "/* ends an operator and starts a comment",
        "SELECT 2 */* c; */ 3; SELECT 4",
        ["SELECT 2 */* c; */ 3", "SELECT 4"],
    ),
    ("# is an operator, not a comment", "SELECT 5 # 3; SELECT 2", ["SELECT 5 # 3", "SELECT 2"]),
    (
        "BEGIN ATOMIC body is one statement",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;"
        " SELECT 3;",
        [
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
            "SELECT 3",
        ],
    ),
    (
        "CASE ... END nests inside BEGIN ATOMIC",
        "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n"
        "  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT CASE x WHEN 1 THEN 2 END;\nEND;\n"
        "SELECT 2;",
        [
            "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n"
            "  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT CASE x WHEN 1 THEN 2 END;\nEND",
            "SELECT 2",
        ],
    ),
    (
        "procedure with BEGIN ATOMIC, comment between the keywords",
        "create procedure p() begin /* x; */ atomic insert into t values (1); end; SELECT 2",
        [
            "create procedure p() begin /* x; */ atomic insert into t values (1); end",
            "SELECT 2",
        ],
    ),
    (
        "END used as a label inside BEGIN ATOMIC does not close it",
        "CREATE FUNCTION f() RETURNS SETOF t LANGUAGE sql BEGIN ATOMIC SELECT 1 AS end, "
        "t.case FROM t; END; SELECT 2",
        [
            "CREATE FUNCTION f() RETURNS SETOF t LANGUAGE sql BEGIN ATOMIC SELECT 1 AS end, "
            "t.case FROM t; END",
            "SELECT 2",
        ],
    ),
    (
        "a function named begin has no atomic body",
        "CREATE FUNCTION begin() RETURNS int LANGUAGE sql AS 'SELECT 1'; SELECT 2",
        ["CREATE FUNCTION begin() RETURNS int LANGUAGE sql AS 'SELECT 1'", "SELECT 2"],
    ),
    (
        "plpgsql BEGIN inside a dollar quote is not BEGIN ATOMIC",
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql; SELECT 2",
        [
            "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql",
            "SELECT 2",
        ],
    ),
    (
        "CREATE RULE with several actions in parentheses",
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
        "INSERT INTO b VALUES (2)); SELECT 1",
        [
            "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
            "INSERT INTO b VALUES (2))",
            "SELECT 1",
        ],
    ),
    (
        "a column named begin",
        "CREATE TABLE t (begin int); SELECT begin FROM t;",
        ["CREATE TABLE t (begin int)", "SELECT begin FROM t"],
    ),
    (
        "transaction statements are statements of their own",
        "BEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\nCOMMIT;\nBEGIN;\nEND;\n"
        "START TRANSACTION;\nROLLBACK;",
        [
            "BEGIN ISOLATION LEVEL SERIALIZABLE",
            "SELECT 1",
            "COMMIT",
            "BEGIN",
            "END",
            "START TRANSACTION",
            "ROLLBACK",
        ],
    ),
    (
        "a stray closing parenthesis does not swallow the next semicolon",
        "SELECT 1); SELECT 2",
        ["SELECT 1)", "SELECT 2"],
    ),
    (
        "a COPY that reads a file is an ordinary statement",
        "COPY t FROM '/tmp/t.csv'; COPY (SELECT 1 FROM stdin) TO STDOUT",
        ["COPY t FROM '/tmp/t.csv'", "COPY (SELECT 1 FROM stdin) TO STDOUT"],
    ),
    (
        "non-ASCII identifiers and text",
        "SELECT 'é;' AS größe; SELECT 2",
        ["SELECT 'é;' AS größe", "SELECT 2"],
    ),
]

# (behaviour, file text, start of the message, line, column)
FAILURES: list[tuple[str, str, str, int, int]] = [
    (
        "unterminated dollar quote names its tag",
        "SELECT 1;\nCREATE FUNCTION f() AS $fn$\nBEGIN\n",
        "unterminated dollar-quoted string $fn$ starting at line 2, column 24",
        2,
        24,
    ),
    ("unterminated string", "SELECT 'abc;\n", "unterminated quoted string", 1, 8),
    (
        "doubled quote at the end is not a close",
        "SELECT 'abc''",
        "unterminated quoted string",
        1,
        8,
    ),
    ("E string ending in an escaped quote", "SELECT E'\\'", "unterminated quoted string E'", 1, 8),
    ("unterminated quoted identifier", 'SELECT "abc', "unterminated quoted identifier", 1, 8),
    ("unterminated U& identifier", 'SELECT U&"abc', "unterminated quoted identifier", 1, 8),
    ("unterminated bit string", "SELECT B'01", "unterminated bit string literal", 1, 8),
    ("unterminated nested comment", "/* a /* b */\nSELECT 1;", "unterminated /* comment", 1, 1),
    (
        "psql meta-command at the start of a line",
        "SELECT 1;\n\\connect other\nSELECT 2;",
        "psql meta-command \\connect at line 2, column 1",
        2,
        1,
    ),
    (
        "psql meta-command after a statement",
        "SELECT 1 \\gset\n",
        "psql meta-command \\gset at line 1, column 10",
        1,
        10,
    ),
    (
        "COPY FROM stdin with inline data",
        "SELECT 1;\ncopy t (a, b) from STDIN;\n1\t2\n\\.\n",
        "COPY ... FROM stdin at line 2, column 1",
        2,
        1,
    ),
]


def sqls(text: str) -> list[str]:
    return [s.sql for s in split_statements(text)]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CUTS], ids=[c[0] for c in CUTS])
def test_cuts_where_postgresql_does(text: str, expected: list[str]) -> None:
    assert sqls(text) == expected


@pytest.mark.parametrize("text", [c[1] for c in CUTS], ids=[c[0] for c in CUTS])
def test_fast_path_agrees_with_token_by_token_path(text: str) -> None:
    assert split_statements(text) == _split(text, by_tokens=True)


# Pieces whose mixes stress the places where the two paths could part: prefixes, quotes with
# parentheses, continued E strings, dollar tags, comments inside operators, BEGIN ATOMIC.
PIECES = (
    "SELECT", " ", "\n", ";", "(", ")", "'a'", "'(;'", "E'\\''", "e'(\\\\'", "E'x'\n'\\';'",
    "$$;$$", "$a$ ( $$ $a$", '"q;"', '"("', "U&'x'", 'U&"("', "B'01'", "N'n'", "-- c;\n",
    "/* ( /* ; */ */", "a$b", "$1", "$", "x", "E", "N", "u&", "1e5", ".5", "1..2", "+", "-", "/",
    "*", "#", "::", "begin", "atomic", "end", "case", "create", "function", "as", ".", ",",
    "date'x'", "1e'x'", "é", "CREATE FUNCTION f() BEGIN ATOMIC ", " END", "'", '"', "/*", "\\",
)  # fmt: skip


def _outcome(text: str, by_tokens: bool) -> list[Statement] | str:
    try:
        return _split(text, by_tokens=by_tokens)
    except SplitError as exc:
        return exc.message


def test_fast_path_agrees_with_token_path_on_random_mixes() -> None:
    rnd = random.Random(2024)
    for _ in range(2000):
        text = "".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 20)))
        assert _outcome(text, False) == _outcome(text, True), text


@pytest.mark.parametrize("text", [c[1] for c in CUTS], ids=[c[0] for c in CUTS])
def test_offset_locates_sql_in_the_text(text: str) -> None:
    for stmt in split_statements(text):
        assert text[stmt.offset : stmt.offset + len(stmt.sql)] == stmt.sql
        before = text[: stmt.offset]
        assert stmt.line == before.count("\n") + 1
        assert stmt.column == len(before) - (before.rfind("\n") + 1) + 1


@pytest.mark.parametrize(
    ("text", "message", "line", "column"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES]
)
def test_refuses_what_postgresql_cannot_read(
    text: str, message: str, line: int, column: int
) -> None:
    with pytest.raises(SplitError) as caught:
        split_statements(text)
    assert caught.value.message.startswith(message)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert f"line {line}, column {column}" in caught.value.message
    assert isinstance(caught.value, MigrationFileError)
    assert caught.value.hint


def test_statement_positions_are_one_based_lines_and_character_columns() -> None:
    text = "-- header\n\nSELECT 'ü';  SELECT 2;\n  /* x */ SELECT\n3"
    assert split_statements(text) == [
        Statement("SELECT 'ü'", 3, 1, 11, True, "-- header"),
        Statement("SELECT 2", 3, 14, 24, True, ""),
        Statement("SELECT\n3", 4, 11, 44, True, "/* x */"),
    ]


def test_leading_comments_are_those_since_the_previous_semicolon() -> None:
    text = (
        "-- sqlmig:no-transaction\nSELECT 1; -- after one\n"
        "-- sqlmig:ignore DEST001 reason\n/* block */\nSELECT 2 /* inside */;\n;\n-- kept\nSELECT 3"
    )
    comments = [s.leading_comments for s in split_statements(text)]
    assert comments == [
        "-- sqlmig:no-transaction",
        "-- after one\n-- sqlmig:ignore DEST001 reason\n/* block */",
        "-- kept",
    ]


def test_trailing_comment_is_not_part_of_the_statement() -> None:
    assert sqls("SELECT 1 -- done\n/* c */;") == ["SELECT 1"]


def test_statements_know_whether_they_can_run_in_a_transaction() -> None:
    text = "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);\nVACUUM t"
    assert [s.transactional for s in split_statements(text)] == [True, False, False]


# -- tokens ----------------------------------------------------------------------------------

TOKENS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "words, numbers, parameters",
        "SELECT a$b, 1.5e3, $1 FROM t",
        [
            ("ident", "SELECT"),
            ("ident", "a$b"),
            ("punct", ","),
            ("number", "1.5e3"),
            ("punct", ","),
            ("param", "$1"),
            ("ident", "FROM"),
            ("ident", "t"),
        ],
    ),
    (
        "quotes of every kind",
        "E'\\'' U&'x' \"q\"\"\" $t$ ; $t$",
        [("string", "E'\\''"), ("string", "U&'x'"), ("qident", '"q"""'), ("dollar", "$t$ ; $t$")],
    ),
    (
        "SQL operators shed a trailing minus",
        "x=-1",
        [("ident", "x"), ("op", "="), ("op", "-"), ("number", "1")],
    ),
    ("other operators keep it", "a @- b", [("ident", "a"), ("op", "@-"), ("ident", "b")]),
    (
        "comments",
        "1 /* a /* b */ */ -- c",
        [("number", "1"), ("comment", "/* a /* b */ */"), ("comment", "-- c")],
    ),
    ("range is not a decimal", "1..10", [("number", "1"), ("punct", ".."), ("number", "10")]),
    ("typecast", "x::int", [("ident", "x"), ("punct", "::"), ("ident", "int")]),
]


@pytest.mark.parametrize(("text", "expected"), [t[1:] for t in TOKENS], ids=[t[0] for t in TOKENS])
def test_tokenizes_like_postgresql(text: str, expected: list[tuple[str, str]]) -> None:
    significant = [(t.kind, t.text) for t in tokenize(text) if t.kind != "ws"]
    assert significant == expected


@pytest.mark.parametrize("text", [c[1] for c in CUTS], ids=[c[0] for c in CUTS])
def test_tokens_cover_the_text_exactly(text: str) -> None:
    tokens = tokenize(text)
    assert "".join(t.text for t in tokens) == text
    assert all(text[t.offset : t.offset + len(t.text)] == t.text for t in tokens)


def test_token_is_a_small_value() -> None:
    assert Token("ident", "x", 0) == ("ident", "x", 0)
