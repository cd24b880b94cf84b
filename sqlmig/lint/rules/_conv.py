"""Reading table DDL for the CONV rules (not a rule: the registry only loads modules named
`<id>_<slug>.py`): the elements of `CREATE TABLE`, the `ALTER TABLE` actions that add columns
and constraints or change a type, `CREATE INDEX`, and the words of a column type.

The table-constraint keywords (`CONSTRAINT`, `PRIMARY`, `UNIQUE`, `CHECK`, `FOREIGN`) are
reserved, so a column named like one is quoted and cannot be mistaken for it; `EXCLUDE` is not
reserved and counts as a constraint only before `USING` or `(`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final
from weakref import WeakKeyDictionary

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt

CREATE_TABLE: Final = "CREATE [GLOBAL|LOCAL] [TEMP|TEMPORARY|UNLOGGED|FOREIGN] TABLE"
CREATE_INDEX: Final = "CREATE [UNIQUE] INDEX"
_CONSTRAINT_WORDS: Final = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"})
# Words that end a column's type: its constraints and options.
_TYPE_END: Final = frozenset(
    {"CONSTRAINT", "NOT", "NULL", "DEFAULT", "PRIMARY", "UNIQUE", "CHECK", "REFERENCES"}
    | {"GENERATED", "COLLATE", "DEFERRABLE", "INITIALLY", "STORAGE", "COMPRESSION", "USING"}
    | {"WITH", "OPTIONS"}
)


@dataclass(frozen=True, slots=True)
class Column:
    """A column definition: ``at`` is its name's word, ``type`` its type's words (empty in a
    partition's or a CTAS's column list), ``rest`` the words after the type."""

    at: int
    name: str
    type: Span
    rest: Span

    def find(self, *words: str) -> int | None:
        """Where ``words`` occur among the column's constraints, outside parentheses."""
        return self.rest.find(*words, depth=self.rest.stmt.depth(self.at))

    def references(self) -> int | None:
        """The index of its inline ``REFERENCES`` (a foreign key), else None."""
        return self.find("REFERENCES")


@dataclass(frozen=True, slots=True)
class Constraint:
    """A table constraint: ``kind`` is PRIMARY, UNIQUE, FOREIGN, CHECK, EXCLUDE or NOT
    (NULL, PostgreSQL 18), ``at`` its keyword; ``name`` None when unnamed; ``columns`` the key
    columns (the referencing ones for a foreign key; None for an expression); ``using_index``
    for `... USING INDEX i`; ``target`` the referenced table of a foreign key."""

    kind: str
    at: int
    name: str | None
    columns: tuple[str | None, ...]
    using_index: str | None
    target: ObjectName | None
    span: Span


@dataclass(frozen=True, slots=True)
class Table:
    """A `CREATE TABLE`: ``at`` is its name's first word."""

    at: int
    name: ObjectName
    temporary: bool
    foreign: bool
    partition_of: ObjectName | None
    as_query: bool
    columns: list[Column]
    constraints: list[Constraint]
    likes: list[Span]


_TABLES: WeakKeyDictionary[FileContext, dict[int, Table]] = WeakKeyDictionary()


def table_of(ctx: FileContext, stmt: Stmt) -> Table | None:
    """:func:`create_table` of ``stmt``, parsed once per file for all the CONV rules."""
    if stmt.kw(0) != "CREATE":
        return None
    tables = _TABLES.get(ctx)
    if tables is None:
        made = ((s.index, create_table(s)) for s in ctx.starting_with("CREATE"))
        tables = _TABLES[ctx] = {i: table for i, table in made if table is not None}
    return tables.get(stmt.index)


def create_table(stmt: Stmt) -> Table | None:
    if stmt.kw(0) != "CREATE" or "TABLE" not in stmt.kws[1:4]:
        return None  # cheap: most statements are not a CREATE TABLE
    at = stmt.match(CREATE_TABLE)
    if at is None:
        return None
    name = stmt.name_from(at)
    if name is None:
        return None
    i, parent = name.end, None
    if stmt.starts_with("PARTITION", "OF", at=i):
        parent = stmt.name_at(i + 2)
        i = parent.end if parent is not None else i
    elif stmt.kw(i) == "OF":
        typed = stmt.name_at(i + 1)
        i = typed.end if typed is not None else i
    columns: list[Column] = []
    constraints: list[Constraint] = []
    likes: list[Span] = []
    end = i
    if stmt.kw(i) == "(":
        end = stmt.group_end(i)
        for element in Span(stmt, i + 1, end).split():
            _element(element, columns, constraints, likes)
    return Table(
        at=name.start,
        name=name,
        temporary=stmt.kw(at - 2) in ("TEMP", "TEMPORARY"),
        foreign=stmt.kw(at - 2) == "FOREIGN",
        partition_of=parent,
        as_query=stmt.find("AS", start=end, depth=0) is not None,
        columns=columns,
        constraints=constraints,
        likes=likes,
    )


def _element(
    element: Span, columns: list[Column], constraints: list[Constraint], likes: list[Span]
) -> None:
    if is_constraint(element):
        found = constraint(element)
        if found is not None:
            constraints.append(found)
    elif element.kw(element.start) == "LIKE":
        likes.append(element)
    else:
        column = column_at(element, element.start)
        if column is not None:
            columns.append(column)


def is_constraint(span: Span, at: int | None = None) -> bool:
    i = span.start if at is None else at
    word = span.kw(i)
    return word in _CONSTRAINT_WORDS or (word == "EXCLUDE" and span.kw(i + 1) in ("USING", "("))


def column_at(span: Span, i: int) -> Column | None:
    """The column definition whose name is word ``i`` of ``span`` (up to the span's end)."""
    stmt = span.stmt
    name = stmt.name(i)
    if name is None or stmt.kind(i) not in ("ident", "qident"):
        return None
    end = type_end(span, i + 1)
    return Column(i, name, Span(stmt, i + 1, end), Span(stmt, end, span.end))


def type_end(span: Span, i: int) -> int:
    """Where the type starting at word ``i`` ends (its constraints or options start)."""
    stmt = span.stmt
    level = stmt.depth(i - 1)
    while i < span.end and not (stmt.depth(i) == level and _ends_type(span, i)):
        i += 1
    return i


def _ends_type(span: Span, j: int) -> bool:
    word = span.kw(j)
    if word == "WITH" or word == "WITHOUT":  # timestamp with time zone: still the type
        return not span.starts_with("TIME", "ZONE", at=j + 1)
    return word in _TYPE_END


def constraint(span: Span) -> Constraint | None:
    """The table constraint ``span`` starts with (`[CONSTRAINT name] PRIMARY KEY ...`)."""
    stmt = span.stmt
    i, name = span.start, None
    if span.kw(i) == "CONSTRAINT":
        name = stmt.name(i + 1)
        i += 2
    kind = span.kw(i)
    if kind not in ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE", "NOT"):
        return None
    columns: tuple[str | None, ...] = ()
    using_index = target = None
    if span.starts_with("USING", "INDEX", at=_after_key(span, i)):
        using_index = stmt.name(_after_key(span, i) + 2)
    elif kind == "NOT":
        columns = (stmt.name(i + 2),)
    elif kind != "CHECK":
        group = stmt.find("(", start=i)
        if group is not None and group < span.end:
            columns = key_columns(Span(stmt, group + 1, stmt.group_end(group)))
    if kind == "FOREIGN":
        ref = span.find("REFERENCES", start=i)
        target = stmt.name_at(ref + 1) if ref is not None else None
    return Constraint(kind, i, name, columns, using_index, target, span)


def _after_key(span: Span, i: int) -> int:
    """The word after `PRIMARY KEY` / `UNIQUE [NULLS [NOT] DISTINCT]`."""
    if span.kw(i) == "PRIMARY":
        return i + 2
    j = i + 1
    if span.kw(j) == "NULLS":
        j += 3 if span.kw(j + 1) == "NOT" else 2
    return j


def key_columns(group: Span) -> tuple[str | None, ...]:
    """The columns of an index or key list: a name, or None for an expression."""
    out: list[str | None] = []
    stmt = group.stmt
    for part in group.split():
        first = part.start
        plain = stmt.kind(first) in ("ident", "qident") and part.kw(first + 1) != "("
        out.append(stmt.name(first) if plain else None)
    return tuple(out)


def named_columns(span: Span) -> set[str]:
    """Every identifier in ``span`` (the columns an expression may read, and more)."""
    stmt = span.stmt
    return {n for i in range(span.start, span.end) if (n := stmt.name(i)) is not None}


# -- ALTER TABLE --------------------------------------------------------------------------


def added_column(action: Span) -> Column | None:
    """`ADD [COLUMN] [IF NOT EXISTS] name type ...`, else None."""
    if action.kw(action.start) != "ADD" or is_constraint(action, action.start + 1):
        return None
    i = action.start + 1
    i += 1 if action.kw(i) == "COLUMN" else 0
    i += 3 if action.starts_with("IF", "NOT", "EXISTS", at=i) else 0
    return column_at(action, i)


def added_constraint(action: Span) -> Constraint | None:
    """`ADD [CONSTRAINT name] PRIMARY KEY|UNIQUE|FOREIGN KEY|CHECK|EXCLUDE ...`, else None."""
    if action.kw(action.start) != "ADD" or not is_constraint(action, action.start + 1):
        return None
    return constraint(Span(action.stmt, action.start + 1, action.end))


def altered_type(action: Span) -> Column | None:
    """`ALTER [COLUMN] name [SET DATA] TYPE type [COLLATE c] [USING expr]`: the column, with
    ``type`` its new type."""
    if action.kw(action.start) != "ALTER":
        return None
    i = action.start + 1
    i += 1 if action.kw(i) == "COLUMN" else 0
    if action.kw(i) == "CONSTRAINT":
        return None
    j = action.match("[SET DATA] TYPE", at=i + 1)
    if j is None:
        return None
    name = action.stmt.name(i)
    if name is None:
        return None
    end = type_end(action, j)
    return Column(i, name, Span(action.stmt, j, end), Span(action.stmt, end, action.end))


def alter_column(action: Span) -> tuple[int, str] | None:
    """(index, name) of the column of an `ALTER [COLUMN] name ...` action."""
    if action.kw(action.start) != "ALTER":
        return None
    i = action.start + 1
    i += 1 if action.kw(i) == "COLUMN" else 0
    name = action.stmt.name(i)
    return None if name is None or action.kw(i) == "CONSTRAINT" else (i, name)


# -- CREATE INDEX -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Index:
    at: int
    name: ObjectName | None
    table: ObjectName
    columns: tuple[str | None, ...]
    words: Span  # from the key list to the end (INCLUDE, WHERE ...)

    @property
    def default_name(self) -> str:
        """The name PostgreSQL gives it when unnamed: `orders_customer_id_idx`; an
        expression is named after its function (`lower`) or `expr`."""
        stmt = self.words.stmt
        labels = []
        for part in Span(stmt, self.words.start + 1, stmt.group_end(self.words.start)).split():
            call = stmt.kind(part.start) == "ident" and part.kw(part.start + 1) == "("
            plain = stmt.kind(part.start) in ("ident", "qident") and part.kw(part.start + 1) != "("
            labels.append(stmt.name(part.start) if call or plain else "expr")
        return f"{self.table.name}_{'_'.join(str(label) for label in labels)}_idx"


def create_index(stmt: Stmt) -> Index | None:
    if stmt.kw(0) != "CREATE" or "INDEX" not in stmt.kws[1:3]:
        return None
    at = stmt.match(CREATE_INDEX)
    if at is None:
        return None
    on = stmt.find("ON", start=at, depth=0)
    table = stmt.name_from(on + 1) if on is not None else None
    if table is None:
        return None
    group = stmt.find("(", start=table.end, depth=0)
    if group is None:
        return None
    close = stmt.group_end(group)
    columns = key_columns(Span(stmt, group + 1, close))
    return Index(at, stmt.name_from(at), table, columns, Span(stmt, group, len(stmt)))


# -- types --------------------------------------------------------------------------------


def type_words(span: Span) -> tuple[str, ...]:
    """A type's name words, lower case, without modifiers, array bounds or `pg_catalog.`:
    ``timestamp(3) without time zone[]`` -> (timestamp, without, time, zone). A quoted word
    keeps its case (``"char"`` is the internal one-byte type: ('"char"',))."""
    stmt = span.stmt
    out: list[str] = []
    i = span.start
    while i < span.end:
        word = span.kw(i)
        if word == "(":
            i = stmt.group_end(i) + 1
            continue
        if stmt.kind(i) == "qident":
            out.append(f'"{stmt.name(i)}"' if stmt.name(i) == "char" else stmt.name(i) or "")
        elif stmt.kind(i) == "ident" and word != "ARRAY":
            out.append(word.lower())
        elif word not in (".", "[", "]") and stmt.kind(i) != "number":
            out.append(word)
        i += 1
    if out[:1] == ["pg_catalog"]:
        out = out[1:]
    return tuple(out)


def modifier(span: Span) -> str:
    """A type's `(n)` modifier as written, or ""."""
    if not len(span):
        return ""
    i = span.find("(", depth=span.stmt.depth(span.start))
    return "" if i is None else Span(span.stmt, i, span.stmt.group_end(i) + 1).text


def column_types(ctx: FileContext, stmt: Stmt) -> Iterator[tuple[str, Column]]:
    """Every column whose type the statement declares, with its owner's name (`table.column`
    reads well): `CREATE TABLE` columns, `ADD COLUMN`, `ALTER COLUMN ... TYPE`, a composite
    type's attributes, and a domain's base type (as a column named after the domain, owner
    "")."""
    table = table_of(ctx, stmt)
    if table is not None:
        columns = () if table.temporary else table.columns  # scratch: gone at session end
        yield from ((str(table.name), column) for column in columns)
    elif stmt.kw(0) == "ALTER":
        alter = stmt.alter_table()
        for action in alter.actions if alter is not None else ():
            column = added_column(action) or altered_type(action)
            if column is not None and alter is not None:
                yield str(alter.name), column
    elif stmt.starts_with("CREATE", "TYPE"):
        name = stmt.name_at(2)
        if name is not None and stmt.starts_with("AS", "(", at=name.end):
            close = stmt.group_end(name.end + 1)
            for part in Span(stmt, name.end + 2, close).split():
                column = column_at(part, part.start)
                yield from () if column is None else ((str(name), column),)
    elif stmt.starts_with("CREATE", "DOMAIN"):
        name = stmt.name_at(2)
        if name is not None:
            start = name.end + (1 if stmt.kw(name.end) == "AS" else 0)
            end = type_end(stmt, start)
            rest = Span(stmt, end, len(stmt))
            yield "", Column(name.start, str(name), Span(stmt, start, end), rest)


def described(owner: str, column: Column) -> str:
    """`column orders.placed_at`, or `domain d` for a domain's base type."""
    return f"column {owner}.{column.name}" if owner else f"domain {column.name}"
