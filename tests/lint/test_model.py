"""The statement model: words, keyword matching, names, groups, positions."""

from __future__ import annotations

from sqlmig.lint.model import Span, Stmt
from tests.lint.casefile import context


def first(text: str) -> Stmt:
    return context(text).statements[0]


def test_words_drop_whitespace_and_comments_and_upper_case_keywords() -> None:
    stmt = first("create /* c */ Table -- x\n  IF not EXISTS t (a int);")
    assert stmt.kws[:6] == ("CREATE", "TABLE", "IF", "NOT", "EXISTS", "T")
    assert stmt.starts_with("CREATE", "TABLE", "IF", "NOT", "EXISTS")
    assert stmt.starts_with("create", "table")


def test_literals_and_quoted_identifiers_never_match_keywords() -> None:
    stmt = first("SELECT 'CREATE', $$TABLE$$, \"if\", E'not' FROM t")
    assert not stmt.has_words("CREATE")
    assert not stmt.has_words("TABLE")
    assert not stmt.has_words("IF")
    assert [w.value for w in stmt.words if w.kind in ("string", "dollar")] == [
        "CREATE",
        "TABLE",
        "not",
    ]


def test_names_fold_like_postgresql() -> None:
    stmt = first('CREATE TABLE Public."MyTable" (ÄBC int)')
    name = stmt.name_after("CREATE TABLE")
    assert name is not None
    assert name.parts == ("public", "MyTable")
    assert name.quoted
    paren = stmt.find("(")
    assert paren is not None and stmt.word(paren + 1).name == "Äbc"


def test_name_after_skips_if_not_exists_concurrently_and_only() -> None:
    stmt = first("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY t (a)")
    assert str(stmt.name_after("CREATE [UNIQUE] INDEX")) == "i"
    on = stmt.find("ON")
    assert on is not None
    assert str(stmt.name_after("ON", at=on)) == "t"


def test_unnamed_index_has_no_name() -> None:
    assert first("CREATE INDEX ON t (a)").name_after("CREATE [UNIQUE] INDEX") is None


def test_match_supports_optional_groups_alternatives_and_skips() -> None:
    stmt = first("CREATE OR REPLACE TEMP VIEW v AS SELECT 1")
    assert stmt.match("CREATE [OR REPLACE] [TEMP|TEMPORARY] VIEW") == 5
    assert stmt.match("CREATE [UNIQUE] INDEX") is None
    assert stmt.match("CREATE ... AS SELECT") == 8
    assert first("CREATE VIEW v AS SELECT 1").match("CREATE [OR REPLACE] VIEW") == 2


def test_find_at_a_depth() -> None:
    stmt = first("ALTER TABLE t ADD CONSTRAINT c CHECK (a NOT IN (1)) NOT VALID")
    assert stmt.find("NOT", depth=0) == stmt.find("NOT", "VALID")
    inner = stmt.find("NOT")
    assert inner is not None and stmt.depth(inner) == 1


def test_groups_and_split() -> None:
    stmt = first("CREATE TABLE t (a int, b numeric(10, 2), CHECK (a > 0))")
    (columns,) = stmt.groups()
    parts = columns.split()
    assert [p.text for p in parts] == ["a int", "b numeric(10, 2)", "CHECK (a > 0)"]
    assert isinstance(parts[0], Span)


def test_alter_table_actions() -> None:
    stmt = first("ALTER TABLE IF EXISTS ONLY app.t ADD COLUMN a int, DROP COLUMN b CASCADE")
    alter = stmt.alter_table()
    assert alter is not None
    assert str(alter.name) == "app.t"
    assert alter.if_exists
    assert [a.text for a in alter.actions] == ["ADD COLUMN a int", "DROP COLUMN b CASCADE"]
    assert alter.actions[1].starts_with("DROP", "COLUMN")
    assert first("SELECT 1").alter_table() is None


def test_positions_are_1_based_and_point_at_words() -> None:
    ctx = context("SELECT 1;\n\n  CREATE INDEX\n    i ON t (a);")
    stmt = ctx.statements[1]
    assert (stmt.line, stmt.column) == (3, 3)
    assert stmt.position(2) == (4, 5)
    assert stmt.sql == "CREATE INDEX\n    i ON t (a)"


def test_function_bodies_are_not_words() -> None:
    stmt = first(
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC UPDATE t SET a = 1; END"
    )
    assert stmt.is_routine
    assert not stmt.has_words("UPDATE")
    quoted = first("CREATE OR REPLACE FUNCTION f() RETURNS void AS $$ DROP TABLE t $$ LANGUAGE sql")
    assert not quoted.has_words("DROP")
    sql_body = first("CREATE FUNCTION f(a int) RETURNS int RETURN a + 1")
    assert sql_body.kws[-2:] == ("RETURNS", "INT")
