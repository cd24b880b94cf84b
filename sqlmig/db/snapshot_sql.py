"""The catalog queries behind ``snapshot``: one per object kind, and the family tokens.

Objects are grouped in families, each with a root: a relation (tag ``r``: its columns,
constraints, indexes, triggers, rules, policies and statistics), a sequence (``S``), a function
(``f``) or a type (``T``: with its labels, attributes or domain constraints). A family's token
sums the ``xmin`` of every catalog row its objects are read from, so any insert, update or
delete among them changes it. Schemas, extensions, collations, event triggers and default
privileges are few and are read in full every time (family ``G``).

Every object created after initdb has an OID from 16384 (FirstNormalObjectId) up: filtering on
it lets the catalog indexes skip the thousands of built-in rows when every family is read
(``{first}``). ``{skip}`` is the OID array of sqlmig's own history tables and what belongs to
them. A comment is read by a subquery, not ``obj_description``: a SQL function is set up again
on every execution of the statement that calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

FIRST_USER_OID: Final = 16384
# sqlmig test's own schema in the scratch database (its DDL log) is not the user's
WATCH_SCHEMA: Final = "sqlmig_roundtrip"
USER_NSP: Final = (
    f"n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', '{WATCH_SCHEMA}')"
)
_USER_NSP: Final = USER_NSP
_REL_KINDS: Final = "('r', 'p', 'v', 'm', 'f')"
_REL_KIND: Final = (
    "CASE {c}.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'"
    " WHEN 'f' THEN 'foreign table' ELSE 'table' END"
)
_STATE: Final = (
    "CASE {col} WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'enabled on replicas only'"
    " WHEN 'A' THEN 'always enabled' ELSE 'enabled' END"
)


@dataclass(frozen=True, slots=True)
class Kind:
    """One object kind: its SELECT (root, ident, key, parent, summary, then each attribute
    ``AS`` its name), the family its rows belong to, and the SQL of the root OID for reading
    only some families. The template's ``{first}`` is FIRST_USER_OID where a read covers
    every family (see ``Reads``)."""

    tag: str
    root: str | None  # None: the kind is small and always read whole (family G)
    template: str


def relkey(c: str = "c", n: str = "n") -> str:
    """SQL for a relation's key, e.g. ``table public.users``."""
    return f"{_REL_KIND.format(c=c)} || ' ' || format('%I.%I', {n}.nspname, {c}.relname)"


def _not_member(catalog: str, oid: str) -> str:
    """Not an extension's member object (the extension's version stands for those)."""
    return (
        f"NOT EXISTS (SELECT FROM pg_depend member WHERE member.classid = '{catalog}'::regclass"
        f" AND member.objid = {oid} AND member.deptype = 'e')"
    )


def _comment(oid: str, catalog: str, sub: str = "0") -> str:
    """SQL for an object's comment: what ``obj_description`` returns, read in the query
    rather than by a SQL function that is set up again on every execution."""
    return (
        f"(SELECT dsc.description FROM pg_description dsc WHERE dsc.objoid = {oid}"
        f" AND dsc.classoid = '{catalog}'::regclass AND dsc.objsubid = {sub})"
    )


def _grants(acl: str, owner: str, default_kind: str | None) -> str:
    """SQL listing an ACL's grants as ``grantee PRIVILEGE``, without the owner's own ones.

    A NULL ACL means the defaults (``acldefault``): a GRANT followed by its REVOKE then reads
    the same as never granting. The defaults grant the owner and at most PUBLIC, so without
    the owner's they are the same for every owner: they are listed once per statement (for
    the bootstrap superuser, OID 10), not once per object whose ACL is NULL, the usual case.
    """
    if default_kind is None:
        return f"CASE WHEN {acl} IS NOT NULL THEN {_listed(acl, owner)} END"
    defaults = _listed(f"acldefault('{default_kind}', 10)", "10")
    return f"CASE WHEN {acl} IS NULL THEN {defaults} ELSE {_listed(acl, owner)} END"


def _listed(acl: str, owner: str) -> str:
    return (
        "(SELECT string_agg(g, ', ' ORDER BY g) FROM (SELECT CASE WHEN x.grantee = 0"
        " THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END || ' '"
        " || x.privilege_type || CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END"
        f" AS g FROM aclexplode({acl}) x WHERE x.grantee <> {owner}) s)"
    )


_REL_FROM: Final = "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
_REL_WHERE: Final = (
    f"c.oid >= {{first}} AND {_USER_NSP} AND c.oid <> ALL ({{skip}})"
    f" AND {_not_member('pg_class', 'c.oid')}"
)


def _relations() -> Kind:
    return Kind(
        "r",
        "c.oid",
        f"""
SELECT c.oid, 'r', {relkey()}, NULL, '',
    CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED' WHEN 't' THEN 'TEMPORARY' ELSE 'LOGGED' END
        AS persistence,
    pg_get_partkeydef(c.oid) AS "partition key",
    (SELECT string_agg(format('%I.%I', pn.nspname, pc.relname), ', ' ORDER BY i.inhseqno)
     FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
     JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid)
        AS "parent tables",
    pg_get_expr(c.relpartbound, c.oid) AS "partition bound",
    CASE WHEN c.relrowsecurity THEN 'enabled' ELSE 'disabled' END AS "row level security",
    CASE WHEN c.relforcerowsecurity THEN 'on' ELSE 'off' END AS "forced row level security",
    array_to_string(c.reloptions, ', ') AS options,
    CASE c.relreplident WHEN 'n' THEN 'NOTHING' WHEN 'f' THEN 'FULL'
        WHEN 'i' THEN 'USING INDEX' ELSE 'DEFAULT' END AS "replica identity",
    am.amname AS "access method",
    CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS definition,
    CASE WHEN c.relkind = 'm' THEN CASE WHEN c.relispopulated THEN 'populated'
        ELSE 'not populated' END END AS state,
    {_comment("c.oid", "pg_class")} AS comment,
    {_grants("c.relacl", "c.relowner", "r")} AS grants
FROM {_REL_FROM} LEFT JOIN pg_am am ON am.oid = c.relam
WHERE c.relkind IN {_REL_KINDS} AND {_REL_WHERE} {{only}}""",
    )


def _columns() -> Kind:
    return Kind(
        "r",
        "c.oid",
        f"""
SELECT c.oid, 'a' || a.attnum, 'column ' || format('%I.%I.%I', n.nspname, c.relname, a.attname),
    {relkey()}, format_type(a.atttypid, a.atttypmod),
    format_type(a.atttypid, a.atttypmod) AS type,
    CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'nullable' END AS nullability,
    CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default,
    CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid)
        || CASE a.attgenerated WHEN 's' THEN ' STORED' ELSE ' VIRTUAL' END END AS generated,
    CASE a.attidentity WHEN 'a' THEN 'GENERATED ALWAYS AS IDENTITY'
        WHEN 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY' END AS identity,
    CASE WHEN a.attcollation <> ty.typcollation
        THEN format('%I.%I', cn.nspname, co.collname) END AS collation,
    {_comment("c.oid", "pg_class", "a.attnum")} AS comment,
    {_grants("a.attacl", "c.relowner", None)} AS grants
FROM pg_attribute a JOIN {_REL_FROM} ON c.oid = a.attrelid
JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid >= {{first}} AND a.attnum > 0 AND NOT a.attisdropped
    AND c.relkind IN {_REL_KINDS} AND {_REL_WHERE} {{only}}""",
    )


# The definition without its " DEFERRABLE INITIALLY DEFERRED NOT VALID" tail: those are the
# deferrability and validity (string ops: a regexp here costs more than the whole query).
_CONSTRAINT_ATTRS: Final = f"""
    (SELECT CASE WHEN k.condeferrable AND d2 LIKE '% DEFERRABLE' THEN left(d2, -11) ELSE d2 END
     FROM (SELECT CASE WHEN k.condeferred AND d1 LIKE '% INITIALLY DEFERRED'
                  THEN left(d1, -19) ELSE d1 END AS d2
           FROM (SELECT CASE WHEN NOT k.convalidated AND d0 LIKE '% NOT VALID'
                        THEN left(d0, -10) ELSE d0 END AS d1
                 FROM (SELECT pg_get_constraintdef(k.oid) AS d0) s0) s1) s2) AS definition,
    CASE WHEN k.convalidated THEN 'valid' ELSE 'NOT VALID' END AS validity,
    CASE WHEN NOT k.condeferrable THEN 'NOT DEFERRABLE'
        WHEN k.condeferred THEN 'DEFERRABLE INITIALLY DEFERRED'
        ELSE 'DEFERRABLE INITIALLY IMMEDIATE' END AS deferrability,
    {_comment("k.oid", "pg_constraint")} AS comment"""


def _table_constraints() -> Kind:
    # NOT NULL constraints (PostgreSQL 18 lists them) are the column's nullability
    return Kind(
        "r",
        "k.conrelid",
        f"""
SELECT c.oid, NULL, 'constraint ' || quote_ident(k.conname) || ' on ' || {relkey()},
    {relkey()}, '', {_CONSTRAINT_ATTRS}
FROM pg_constraint k JOIN {_REL_FROM} ON c.oid = k.conrelid
WHERE k.oid >= {{first}} AND k.contype <> 'n' AND {_REL_WHERE} {{only}}""",
    )


def _domain_constraints() -> Kind:
    return Kind(
        "T",
        "k.contypid",
        f"""
SELECT t.oid, NULL, 'constraint ' || quote_ident(k.conname) || ' on domain '
        || format('%I.%I', n.nspname, t.typname),
    'domain ' || format('%I.%I', n.nspname, t.typname), '', {_CONSTRAINT_ATTRS}
FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE k.oid >= {{first}} AND k.contype <> 'n' AND {_USER_NSP}
    AND {_not_member("pg_type", "t.oid")} {{only}}""",
    )


def _indexes() -> Kind:
    # an index backing a constraint belongs to it: a missing primary key is one difference
    table = relkey("t", "tn")
    return Kind(
        "r",
        "t.oid",
        f"""
SELECT t.oid, NULL, 'index ' || format('%I.%I', n.nspname, c.relname),
    coalesce('constraint ' || quote_ident(k.conname) || ' on ' || {table}, {table}), '',
    pg_get_indexdef(i.indexrelid) AS definition,
    CASE WHEN i.indisvalid THEN 'valid' ELSE 'INVALID' END AS validity,
    CASE WHEN i.indisclustered THEN 'CLUSTER ON' END AS clustering,
    {_comment("c.oid", "pg_class")} AS comment
FROM pg_index i JOIN {_REL_FROM} ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid
    AND k.contype IN ('p', 'u', 'x')
WHERE {_REL_WHERE} AND t.oid <> ALL ({{skip}}) AND {_not_member("pg_class", "t.oid")} {{only}}""",
    )


def _sequences() -> Kind:
    # not the current value; a sequence owned by a column belongs to it
    return Kind(
        "S",
        "c.oid",
        f"""
SELECT c.oid, 'S', 'sequence ' || format('%I.%I', n.nspname, c.relname),
    'column ' || owner.name, '',
    format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
    s.seqincrement::text AS increment, s.seqmin::text AS minimum, s.seqmax::text AS maximum,
    s.seqcache::text AS cache, CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END AS cycle,
    owner.name AS "owned by",
    {_comment("c.oid", "pg_class")} AS comment,
    {_grants("c.relacl", "c.relowner", "s")} AS grants
FROM pg_sequence s JOIN {_REL_FROM} ON c.oid = s.seqrelid
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
    AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class t ON t.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
CROSS JOIN LATERAL (SELECT CASE WHEN t.oid IS NOT NULL
    THEN format('%I.%I.%I', tn.nspname, t.relname, ta.attname) END AS name) owner
WHERE {_REL_WHERE} {{only}}""",
    )


def _functions(version: int) -> Kind:
    body = (
        "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END"
        if version >= 140000
        else "p.prosrc"
    )
    # internal dependencies: a range type's constructors come and go with the type
    return Kind(
        "f",
        "p.oid",
        f"""
SELECT p.oid, 'f', CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate '
        WHEN 'w' THEN 'window function ' ELSE 'function ' END
        || format('%I.%I', n.nspname, p.proname)
        || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, '',
    pg_get_function_arguments(p.oid) AS arguments,
    pg_get_function_result(p.oid) AS result,
    l.lanname AS language,
    {body} AS body,
    CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END
        AS volatility,
    CASE WHEN p.prosecdef THEN 'SECURITY DEFINER' ELSE 'SECURITY INVOKER' END AS security,
    CASE WHEN p.proisstrict THEN 'STRICT' ELSE 'CALLED ON NULL INPUT' END AS "null input",
    CASE p.proparallel WHEN 's' THEN 'PARALLEL SAFE' WHEN 'r' THEN 'PARALLEL RESTRICTED'
        ELSE 'PARALLEL UNSAFE' END AS parallel,
    CASE WHEN p.proleakproof THEN 'LEAKPROOF' ELSE 'NOT LEAKPROOF' END AS leakproof,
    array_to_string(p.proconfig, ', ') AS settings,
    p.procost::text AS cost, p.prorows::text AS rows,
    {_comment("p.oid", "pg_proc")} AS comment,
    {_grants("p.proacl", "p.proowner", "f")} AS grants
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE p.oid >= {{first}} AND {_USER_NSP} AND {_not_member("pg_proc", "p.oid")}
    AND NOT EXISTS (SELECT FROM pg_depend i WHERE i.classid = 'pg_proc'::regclass
        AND i.objid = p.oid AND i.deptype = 'i') {{only}}""",
    )


def _triggers(version: int) -> Kind:
    # not the internal triggers of foreign keys, nor the clones on partitions
    not_clone = "AND t.tgparentid = 0" if version >= 130000 else ""
    return Kind(
        "r",
        "c.oid",
        f"""
SELECT c.oid, NULL, 'trigger ' || quote_ident(t.tgname) || ' on ' || {relkey()}, {relkey()}, '',
    pg_get_triggerdef(t.oid) AS definition, {_STATE.format(col="t.tgenabled")} AS state,
    {_comment("t.oid", "pg_trigger")} AS comment
FROM pg_trigger t JOIN {_REL_FROM} ON c.oid = t.tgrelid
WHERE t.oid >= {{first}} AND NOT t.tgisinternal {not_clone} AND {_REL_WHERE} {{only}}""",
    )


def _rules() -> Kind:
    # not the _RETURN rule that makes a view a view
    return Kind(
        "r",
        "c.oid",
        f"""
SELECT c.oid, NULL, 'rule ' || quote_ident(r.rulename) || ' on ' || {relkey()}, {relkey()}, '',
    pg_get_ruledef(r.oid) AS definition, {_STATE.format(col="r.ev_enabled")} AS state,
    {_comment("r.oid", "pg_rewrite")} AS comment
FROM pg_rewrite r JOIN {_REL_FROM} ON c.oid = r.ev_class
WHERE r.oid >= {{first}} AND r.rulename <> '_RETURN' AND {_REL_WHERE} {{only}}""",
    )


def _policies() -> Kind:
    return Kind(
        "r",
        "c.oid",
        f"""
SELECT c.oid, NULL, 'policy ' || quote_ident(p.polname) || ' on ' || {relkey()}, {relkey()}, '',
    CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
        WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
    CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END AS type,
    (SELECT string_agg(r, ', ' ORDER BY r) FROM (SELECT CASE WHEN o = 0 THEN 'PUBLIC'
        ELSE quote_ident(pg_get_userbyid(o)) END AS r FROM unnest(p.polroles) o) s) AS roles,
    pg_get_expr(p.polqual, p.polrelid) AS using,
    pg_get_expr(p.polwithcheck, p.polrelid) AS "with check",
    {_comment("p.oid", "pg_policy")} AS comment
FROM pg_policy p JOIN {_REL_FROM} ON c.oid = p.polrelid
WHERE p.oid >= {{first}} AND {_REL_WHERE} {{only}}""",
    )


def _statistics() -> Kind:
    return Kind(
        "r",
        "t.oid",
        f"""
SELECT t.oid, NULL, 'statistics ' || format('%I.%I', n.nspname, s.stxname), {relkey("t", "tn")},
    '', pg_get_statisticsobjdef(s.oid) AS definition,
    {_comment("s.oid", "pg_statistic_ext")} AS comment
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
JOIN pg_class t ON t.oid = s.stxrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE s.oid >= {{first}} AND {_USER_NSP} AND s.stxrelid <> ALL ({{skip}}) {{only}}""",
    )


def _types() -> Kind:
    # enum, composite and range types; a table's row type is the table
    return Kind(
        "T",
        "t.oid",
        f"""
SELECT t.oid, 'T', 'type ' || format('%I.%I', n.nspname, t.typname), NULL, '',
    CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'r' THEN 'range' ELSE 'composite' END AS kind,
    CASE WHEN t.typtype = 'e' THEN (SELECT '(' || coalesce(string_agg(
        quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder), '') || ')'
        FROM pg_enum e WHERE e.enumtypid = t.oid) END AS labels,
    CASE WHEN t.typtype = 'c' THEN (SELECT '(' || coalesce(string_agg(
        format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod))
        || CASE WHEN a.attcollation <> at.typcollation
            THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END,
        ', ' ORDER BY a.attnum), '') || ')'
        FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END AS attributes,
    (SELECT format_type(r.rngsubtype, NULL) || CASE WHEN r.rngcollation <> 0
            THEN ' COLLATE ' || r.rngcollation::regcollation::text ELSE '' END
        FROM pg_range r WHERE r.rngtypid = t.oid) AS subtype,
    {_comment("t.oid", "pg_type")} AS comment,
    {_grants("t.typacl", "t.typowner", "T")} AS grants
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class c ON c.oid = t.typrelid
WHERE t.oid >= {{first}}
    AND (t.typtype IN ('e', 'r') OR (t.typtype = 'c' AND c.relkind = 'c'))
    AND {_USER_NSP} AND {_not_member("pg_type", "t.oid")} {{only}}""",
    )


def _domains() -> Kind:
    return Kind(
        "T",
        "t.oid",
        f"""
SELECT t.oid, 'T', 'domain ' || format('%I.%I', n.nspname, t.typname), NULL,
    format_type(t.typbasetype, t.typtypmod),
    format_type(t.typbasetype, t.typtypmod) AS "base type",
    CASE WHEN t.typnotnull THEN 'NOT NULL' ELSE 'nullable' END AS nullability,
    pg_get_expr(t.typdefaultbin, 0) AS default,
    CASE WHEN t.typcollation <> bt.typcollation
        THEN t.typcollation::regcollation::text END AS collation,
    {_comment("t.oid", "pg_type")} AS comment,
    {_grants("t.typacl", "t.typowner", "T")} AS grants
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_type bt ON bt.oid = t.typbasetype
WHERE t.oid >= {{first}} AND t.typtype = 'd' AND {_USER_NSP}
    AND {_not_member("pg_type", "t.oid")} {{only}}""",
    )


_GLOBALS: Final = (
    # schemas: a renamed schema renames everything in it, so its OID is its ident
    f"""
SELECT 0, 'n' || n.oid, 'schema ' || quote_ident(n.nspname), NULL, '',
    {_comment("n.oid", "pg_namespace")} AS comment,
    {_grants("n.nspacl", "n.nspowner", "n")} AS grants
FROM pg_namespace n WHERE {_USER_NSP} AND {_not_member("pg_namespace", "n.oid")}""",
    # extensions: their member objects are not listed one by one
    f"""
SELECT 0, 'x' || x.oid, 'extension ' || quote_ident(x.extname), NULL, '',
    x.extversion AS version, quote_ident(n.nspname) AS schema,
    {_comment("x.oid", "pg_extension")} AS comment
FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace""",
    f"""
SELECT 0, 'o' || co.oid, 'collation ' || format('%I.%I', n.nspname, co.collname), NULL, '',
    co.collprovider::text AS provider, co.collcollate AS "lc_collate",
    co.collctype AS "lc_ctype",
    CASE WHEN co.collisdeterministic THEN 'deterministic' ELSE 'nondeterministic' END
        AS determinism,
    {_comment("co.oid", "pg_collation")} AS comment
FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE co.oid >= {{first}} AND {_USER_NSP} AND {_not_member("pg_collation", "co.oid")}""",
    f"""
SELECT 0, NULL, 'event trigger ' || quote_ident(e.evtname), NULL, '',
    e.evtevent AS event, e.evtfoid::regprocedure::text AS function,
    array_to_string(e.evttags, ', ') AS tags, {_STATE.format(col="e.evtenabled")} AS state,
    {_comment("e.oid", "pg_event_trigger")} AS comment
FROM pg_event_trigger e WHERE {_not_member("pg_event_trigger", "e.oid")}
    AND e.evtname NOT LIKE '{WATCH_SCHEMA}\\_%'""",
    f"""
SELECT 0, NULL, 'default privileges of ' || quote_ident(pg_get_userbyid(d.defaclrole))
        || coalesce(' in schema ' || quote_ident(n.nspname), '') || ' on '
        || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
            WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'
            ELSE d.defaclobjtype::text END, NULL, '',
    {_grants("d.defaclacl", "d.defaclrole", None)} AS grants
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace""",
)

# Roles belong to the whole server: a renamed role renames every grant to it.
ROLES: Final = "SELECT md5(string_agg(oid::text || ' ' || rolname, ',' ORDER BY oid)) FROM pg_roles"


def kinds(version: int) -> list[Kind]:
    """Every kind, for a server of ``version`` (``server_version_num``): ``_KIND_NAMES``,
    then the globals."""
    return [
        _relations(),
        _columns(),
        _table_constraints(),
        _indexes(),
        _sequences(),
        _functions(version),
        _triggers(version),
        _rules(),
        _policies(),
        _statistics(),
        _types(),
        _domains(),
        _domain_constraints(),
        *(Kind("G", None, g) for g in _GLOBALS),
    ]


@dataclass(frozen=True, slots=True)
class _Part:
    """Catalog rows a family is read from: family tag and root OID, the value summed (the
    row's xmin, unless one of the markers below), FROM and WHERE, and whether the rows are the
    family's own (a family with none of those is noise: the attributes of an index or a TOAST
    table)."""

    tag: str
    root: str
    xmin: str
    source: str
    own: bool = False


_USER: Final = FIRST_USER_OID
# Values that are not an xmin: index flags, which CREATE INDEX CONCURRENTLY may flip in place
# (an in-place update keeps the row's xmin); a constant; a role (pg_roles shows no xmin to
# whoever is not superuser).
_FLAGS: Final = (
    "i.indisvalid::int + 2 * i.indisready::int + 4 * i.indislive::int + 8 * i.indisclustered::int"
)
_ONE: Final = "1"
_ROLE: Final = "hashtext(r.oid::text || ' ' || r.rolname)"


_PARTS: Final = (
    _Part(
        "CASE c.relkind WHEN 'S' THEN 'S' WHEN 'c' THEN 'T' ELSE 'r' END",
        "CASE c.relkind WHEN 'c' THEN c.reltype ELSE c.oid END",
        "c.xmin",
        f"pg_class c WHERE c.oid >= {_USER} AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')",
        own=True,
    ),
    _Part("'r'", "i.indrelid", "i.xmin", f"pg_index i WHERE i.indexrelid >= {_USER}"),
    _Part("'r'", "i.indrelid", _FLAGS, f"pg_index i WHERE i.indexrelid >= {_USER}"),
    _Part(
        "'r'",
        "i.indrelid",
        "ic.xmin",
        f"pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indexrelid >= {_USER}",
    ),
    _Part(
        "'r'",
        "a.attrelid",
        "a.xmin",
        f"pg_attribute a WHERE a.attrelid >= {_USER} AND a.attnum > 0",
    ),
    _Part(
        "'T'",
        "c.reltype",
        "a.xmin",
        "pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
        f" WHERE c.oid >= {_USER} AND c.relkind = 'c' AND a.attnum > 0",
    ),
    _Part("'r'", "d.adrelid", "d.xmin", f"pg_attrdef d WHERE d.oid >= {_USER}"),
    _Part(
        "CASE WHEN k.conrelid <> 0 THEN 'r' ELSE 'T' END",
        "CASE WHEN k.conrelid <> 0 THEN k.conrelid ELSE k.contypid END",
        "k.xmin",
        f"pg_constraint k WHERE k.oid >= {_USER}",
    ),
    _Part("'r'", "t.tgrelid", "t.xmin", f"pg_trigger t WHERE t.oid >= {_USER}"),
    _Part("'r'", "r.ev_class", "r.xmin", f"pg_rewrite r WHERE r.oid >= {_USER}"),
    _Part("'r'", "p.polrelid", "p.xmin", f"pg_policy p WHERE p.oid >= {_USER}"),
    _Part(
        "'r'",
        "s.stxrelid",
        "s.xmin",
        f"pg_statistic_ext s WHERE s.oid >= {_USER}",
    ),
    _Part("'r'", "h.inhrelid", "h.xmin", f"pg_inherits h WHERE h.inhrelid >= {_USER}"),
    _Part("'S'", "q.seqrelid", "q.xmin", f"pg_sequence q WHERE q.seqrelid >= {_USER}"),
    _Part("'f'", "p.oid", "p.xmin", f"pg_proc p WHERE p.oid >= {_USER}", own=True),
    _Part(
        "'T'",
        "t.oid",
        "t.xmin",
        f"pg_type t WHERE t.oid >= {_USER} AND t.typtype IN ('e', 'r', 'd')",
        own=True,
    ),
    _Part(
        "'T'",
        "t.oid",
        "t.xmin",
        "pg_class c JOIN pg_type t ON t.oid = c.reltype"
        f" WHERE c.oid >= {_USER} AND c.relkind = 'c'",
    ),
    _Part("'T'", "e.enumtypid", "e.xmin", f"pg_enum e WHERE e.oid >= {_USER}"),
    _Part("'T'", "g.rngtypid", "g.xmin", f"pg_range g WHERE g.rngtypid >= {_USER}"),
    # comments
    _Part(
        "CASE c.relkind WHEN 'S' THEN 'S' WHEN 'c' THEN 'T' ELSE 'r' END",
        "CASE c.relkind WHEN 'c' THEN c.reltype WHEN 'i' THEN i.indrelid"
        " WHEN 'I' THEN i.indrelid ELSE c.oid END",
        "d.xmin",
        "pg_description d JOIN pg_class c ON c.oid = d.objoid"
        " LEFT JOIN pg_index i ON i.indexrelid = c.oid"
        f" WHERE d.objoid >= {_USER} AND d.classoid = 'pg_class'::regclass",
    ),
    _Part(
        "CASE WHEN k.conrelid <> 0 THEN 'r' ELSE 'T' END",
        "CASE WHEN k.conrelid <> 0 THEN k.conrelid ELSE k.contypid END",
        "d.xmin",
        "pg_description d JOIN pg_constraint k ON k.oid = d.objoid"
        f" WHERE d.objoid >= {_USER} AND d.classoid = 'pg_constraint'::regclass",
    ),
    _Part(
        "'r'",
        "coalesce(t.tgrelid, r.ev_class, p.polrelid, s.stxrelid)",
        "d.xmin",
        "pg_description d"
        " LEFT JOIN pg_trigger t ON d.classoid = 'pg_trigger'::regclass AND t.oid = d.objoid"
        " LEFT JOIN pg_rewrite r ON d.classoid = 'pg_rewrite'::regclass AND r.oid = d.objoid"
        " LEFT JOIN pg_policy p ON d.classoid = 'pg_policy'::regclass AND p.oid = d.objoid"
        " LEFT JOIN pg_statistic_ext s ON d.classoid = 'pg_statistic_ext'::regclass"
        " AND s.oid = d.objoid"
        f" WHERE d.objoid >= {_USER} AND d.classoid IN ('pg_trigger'::regclass,"
        " 'pg_rewrite'::regclass, 'pg_policy'::regclass, 'pg_statistic_ext'::regclass)",
    ),
    _Part(
        "CASE WHEN d.classoid = 'pg_proc'::regclass THEN 'f' ELSE 'T' END",
        "d.objoid",
        "d.xmin",
        f"pg_description d WHERE d.objoid >= {_USER}"
        " AND d.classoid IN ('pg_proc'::regclass, 'pg_type'::regclass)",
    ),
    # which column owns a sequence (ALTER SEQUENCE OWNED BY changes only pg_depend)
    _Part(
        "'S'",
        "c.oid",
        "d.xmin",
        "pg_class c JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid"
        f" WHERE c.oid >= {_USER} AND c.relkind = 'S' AND d.deptype IN ('a', 'i')",
    ),
    # family G: the kinds read whole (schemas, extensions, collations, event triggers,
    # default privileges), and their comments
    _Part("'G'", "0", _ONE, "(VALUES (0)) v(x)", own=True),
    _Part("'G'", "0", "n.xmin", "pg_namespace n"),
    _Part("'G'", "0", "x.xmin", "pg_extension x"),
    _Part("'G'", "0", "o.xmin", f"pg_collation o WHERE o.oid >= {_USER}"),
    _Part("'G'", "0", "e.xmin", "pg_event_trigger e"),
    _Part("'G'", "0", "a.xmin", "pg_default_acl a"),
    *(
        _Part(
            "'G'",
            "0",
            "d.xmin",
            f"{catalog} o JOIN pg_description d ON d.objoid = o.oid"
            f" AND d.classoid = '{catalog}'::regclass{where}",
        )
        for catalog, where in (
            ("pg_namespace", ""),
            ("pg_extension", ""),
            ("pg_event_trigger", ""),
            ("pg_collation", f" WHERE o.oid >= {_USER}"),
        )
    ),
    # family R: roles belong to the server; any change to them rereads everything
    _Part("'R'", "0", _ONE, "(VALUES (0)) v(x)", own=True),
    _Part("'R'", "0", _ROLE, "pg_roles r"),
)


def _since(xmin: str, base: int) -> str:
    """``xmin - base`` as an integer; 0 for a frozen row (its age is pinned at INT_MAX)."""
    return f"CASE WHEN age({xmin}) = 2147483647 THEN 0 ELSE age('{base}'::xid) - age({xmin}) END"


def tokens(base: int) -> str:
    """Each family's token: how many rows, and the sum of their xmin counted from ``base``.

    Any change adds rows with a new transaction ID, newer than every xmin it replaces or
    deletes: the count changes, or else the sum grows. ``age(base) - age(xmin)`` is
    ``xmin - base`` without converting xids to text, and stays right across xid wraparound;
    it is an integer, whose sum PostgreSQL adds up much faster than a bigint's.
    """
    selects = []
    for p in _PARTS:
        value = p.xmin if p.xmin in (_FLAGS, _ONE, _ROLE) else _since(p.xmin, base)
        selects.append(
            f"SELECT {p.tag} AS tag, {p.root} AS root, {value} AS x, {p.own} AS own FROM {p.source}"
        )
    parts = "\nUNION ALL ".join(selects)
    return (
        "SELECT tag, root, count(*)::text || '/' || sum(x)::text"
        f" FROM ({parts}) s GROUP BY tag, root HAVING bool_or(own)"
    )


# -- the DDL log: what sqlmig test's event triggers saw --------------------------------------

# Event triggers (superuser only) record each DDL command's object and each dropped object,
# so a snapshot after an ordinary migration rereads just those families, whatever the size of
# the schema. Names given quoted, like the snapshot's keys.
WATCH: Final = f"""
CREATE SCHEMA {WATCH_SCHEMA};
CREATE TABLE {WATCH_SCHEMA}.ddl_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dropped boolean NOT NULL, classid oid, objid oid, command_tag text, object_type text,
    address text[], normal boolean);
CREATE FUNCTION {WATCH_SCHEMA}.log_commands() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO {WATCH_SCHEMA}.ddl_log (dropped, classid, objid, command_tag, object_type)
    SELECT false, classid, objid, command_tag, object_type FROM pg_event_trigger_ddl_commands();
END $$;
CREATE FUNCTION {WATCH_SCHEMA}.log_drops() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO {WATCH_SCHEMA}.ddl_log (dropped, classid, objid, object_type, address, normal)
    SELECT true, classid, objid, object_type,
        ARRAY(SELECT quote_ident(a) FROM unnest(address_names) a), original OR normal
    FROM pg_event_trigger_dropped_objects();
END $$;
CREATE EVENT TRIGGER {WATCH_SCHEMA}_commands ON ddl_command_end
    EXECUTE FUNCTION {WATCH_SCHEMA}.log_commands();
CREATE EVENT TRIGGER {WATCH_SCHEMA}_drops ON sql_drop EXECUTE FUNCTION {WATCH_SCHEMA}.log_drops();
-- ALWAYS: a migration that sets session_replication_role = replica is still seen
ALTER EVENT TRIGGER {WATCH_SCHEMA}_commands ENABLE ALWAYS;
ALTER EVENT TRIGGER {WATCH_SCHEMA}_drops ENABLE ALWAYS;
"""

# -- reading families ------------------------------------------------------------------------

# The names of the first ``kinds``, in order (the rest are the globals), and a bit for each: a
# set of kinds is an int (NULL in SQL, None in Python: every kind of the family).
_KIND_NAMES: Final = (
    "relations", "columns", "table constraints", "indexes", "sequences", "functions",
    "triggers", "rules", "policies", "statistics", "types", "domains", "domain constraints",
)  # fmt: skip
BIT: Final = {name: 1 << n for n, name in enumerate(_KIND_NAMES)}
# What a change to a table's constraint or index can change: both (a constraint's name is its
# index's, and the other way round).
KEYS: Final = BIT["table constraints"] | BIT["indexes"]
# The kinds a dropped member of a table changes, by its object_type (others: every kind; a
# dropped table column or rule changes more than itself).
DROPPED_KINDS: Final = {
    "trigger": BIT["triggers"],
    "policy": BIT["policies"],
    "statistics object": BIT["statistics"],
    "index": KEYS,
    "table constraint": KEYS,
}
# Rows of the statements that say what to read: a DDL log entry, and a family to read.
LOG_ROW: Final = -1
ROOT_ROW: Final = -2
# What a dropped object's address names: the relation it belonged to, which may still exist.
_IN_RELATION: Final = (
    "'table column', 'default value', 'table constraint', 'trigger', 'rule', 'policy'"
)
_GLOBAL_TYPES: Final = "'schema', 'extension', 'collation', 'event trigger', 'default acl'"
_G_CATALOGS: Final = (
    "'pg_namespace'::regclass, 'pg_extension'::regclass, 'pg_collation'::regclass,"
    " 'pg_event_trigger'::regclass, 'pg_default_acl'::regclass"
)
# The family of an object (a.classid, a.objid) that still exists, or of the globals (a.g),
# and the kinds a command on it can change there: one index probe per catalog, never a join
# over a whole catalog. A command on an index, a constraint, a trigger, a policy or a
# statistics object of a table changes only those kinds.
_FAMILY_OF: Final = f"""
    SELECT CASE WHEN c.relkind = 'S' THEN 'S' WHEN c.relkind = 'c' THEN 'T' ELSE 'r' END AS tag,
        CASE WHEN c.relkind IN ('i', 'I') THEN i.indrelid WHEN c.relkind = 'c' THEN c.reltype
            ELSE c.oid END AS root,
        CASE WHEN c.relkind IN ('i', 'I') THEN {KEYS} END AS kinds
    FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid
    WHERE a.classid = 'pg_class'::regclass AND c.oid = a.objid
        AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'i', 'I', 'S', 'c')
    UNION ALL SELECT 'f', p.oid, NULL FROM pg_proc p
    WHERE a.classid = 'pg_proc'::regclass AND p.oid = a.objid
    UNION ALL SELECT 'T', t.oid, NULL FROM pg_type t
    WHERE a.classid = 'pg_type'::regclass AND t.oid = a.objid
        AND (t.typtype IN ('e', 'r', 'd')
             OR (SELECT tc.relkind FROM pg_class tc WHERE tc.oid = t.typrelid) = 'c')
    UNION ALL SELECT CASE WHEN k.conrelid <> 0 THEN 'r' ELSE 'T' END,
        CASE WHEN k.conrelid <> 0 THEN k.conrelid ELSE k.contypid END,
        CASE WHEN k.conrelid <> 0 THEN {KEYS} END
    FROM pg_constraint k WHERE a.classid = 'pg_constraint'::regclass AND k.oid = a.objid
    UNION ALL SELECT 'r', g.tgrelid, {BIT["triggers"]} FROM pg_trigger g
    WHERE a.classid = 'pg_trigger'::regclass AND g.oid = a.objid
    UNION ALL SELECT 'r', w.ev_class, NULL FROM pg_rewrite w
    WHERE a.classid = 'pg_rewrite'::regclass AND w.oid = a.objid
    UNION ALL SELECT 'r', o.polrelid, {BIT["policies"]} FROM pg_policy o
    WHERE a.classid = 'pg_policy'::regclass AND o.oid = a.objid
    UNION ALL SELECT 'r', x.stxrelid, {BIT["statistics"]} FROM pg_statistic_ext x
    WHERE a.classid = 'pg_statistic_ext'::regclass AND x.oid = a.objid
    UNION ALL SELECT 'G', 0, NULL WHERE a.g"""
# Which kinds have rows in a table's family: the others are not read. A scalar subquery each,
# never EXISTS: the planner may hash that over a whole catalog.
_TABLE_KINDS: Final = (
    ("table constraints", "pg_constraint x WHERE x.conrelid = {t} AND x.contype <> 'n'"),
    ("indexes", "pg_index x WHERE x.indrelid = {t}"),
    ("triggers", "pg_trigger x WHERE x.tgrelid = {t} AND NOT x.tgisinternal"),
    ("rules", "pg_rewrite x WHERE x.ev_class = {t} AND x.rulename <> '_RETURN'"),
    ("policies", "pg_policy x WHERE x.polrelid = {t}"),
    ("statistics", "pg_statistic_ext x WHERE x.stxrelid = {t}"),
)
_HAS_ROWS: Final = " | ".join(
    [
        str(BIT["relations"] | BIT["columns"]),
        *(
            f"CASE WHEN (SELECT 1 FROM {source.format(t='w.root')} LIMIT 1) = 1"
            f" THEN {BIT[name]} ELSE 0 END"
            for name, source in _TABLE_KINDS
        ),
    ]
)
_HINTED: Final = ", ".join(f"('{t}', {k})" for t, k in DROPPED_KINDS.items() if t != "index")
_FROM_LOG: Final = f"""
log(id, dropped, classid, objid, command_tag, object_type, address, normal) AS MATERIALIZED (
    SELECT l.id, l.dropped, l.classid, l.objid, l.command_tag, l.object_type, l.address, l.normal
    FROM {WATCH_SCHEMA}.ddl_log l WHERE l.id > $1),
asked(classid, objid, g, hint, kinds) AS (
    SELECT l.classid, l.objid,
        l.classid IN ({_G_CATALOGS}) OR l.command_tag = 'ALTER DEFAULT PRIVILEGES', false, NULL
    FROM log l WHERE NOT l.dropped
    UNION ALL SELECT 'pg_class'::regclass::oid,
        to_regclass(l.address[1] || '.' || l.address[2])::oid, false, true,
        (SELECT h.kinds FROM (VALUES {_HINTED}) h(t, kinds) WHERE h.t = l.object_type)
    FROM log l WHERE l.dropped AND l.object_type IN ({_IN_RELATION})
        AND cardinality(l.address) >= 2 AND (l.normal OR l.object_type <> 'trigger')
    UNION ALL SELECT 0, 0, true, true, NULL
    FROM log l WHERE l.dropped AND l.object_type IN ({_GLOBAL_TYPES}))"""
_FROM_ROOTS: Final = """
log(id, dropped, classid, objid, command_tag, object_type, address, normal) AS (
    SELECT NULL::bigint, NULL::boolean, NULL::oid, NULL::oid, NULL::text, NULL::text,
        NULL::text[], NULL::boolean WHERE false),
asked(classid, objid, g, hint, kinds) AS (
    SELECT 'pg_class'::regclass::oid, unnest($1::oid[]), false, true, NULL::int
    UNION ALL SELECT 'pg_proc'::regclass::oid, unnest($2::oid[]), false, true, NULL
    UNION ALL SELECT 'pg_type'::regclass::oid, unnest($3::oid[]), false, true, NULL
    UNION ALL SELECT 0, 0, true, true, NULL WHERE $4)"""
# The families to read, by tag and root, with the kinds that changed in each and (for a table)
# those that have rows: those of the objects the log names after entry $1 and of the relations
# dropped objects belonged to (but not the hidden triggers of a foreign key, dropped with it),
# or those asked for by root ($1: relations and sequences, $2: functions, $3: types, $4: the
# globals); every table's partitions and children, and the tables typed after every type read.
# Then the log entries (LOG_ROW: id, dropped, objid, command tag, object type, the first two
# address names joined by a dot, whether it was dropped on its own or by a normal dependency).
_WANTED: Final = f"""
WITH RECURSIVE {{asked}},
mapped AS MATERIALIZED (
    SELECT f.tag, f.root, CASE WHEN a.hint THEN a.kinds ELSE f.kinds END AS kinds
    FROM asked a CROSS JOIN LATERAL ({_FAMILY_OF}) f),
tree(oid, kinds) AS (  -- a probe per table (a join would scan pg_inherits for each)
    SELECT m.root, m.kinds FROM mapped m WHERE m.tag = 'r'
    UNION SELECT
        unnest(ARRAY(SELECT h.inhrelid FROM pg_inherits h WHERE h.inhparent = tree.oid)),
        tree.kinds
    FROM tree),
wanted(tag, root, kinds) AS (  -- a family may come more than once (the reader merges them)
    SELECT m.tag, m.root, m.kinds FROM mapped m WHERE m.tag <> 'r'
    UNION ALL SELECT 'r', tree.oid, tree.kinds FROM tree
    UNION ALL SELECT 'r', c.oid, NULL FROM pg_class c  -- no index: only when a type is read
    WHERE EXISTS (SELECT FROM mapped m WHERE m.tag = 'T')
        AND c.reloftype IN (SELECT m.root FROM mapped m WHERE m.tag = 'T'))
SELECT {LOG_ROW}::int2, NULL::oid, l.id::text, l.dropped::text, l.objid::text, l.command_tag,
    l.object_type,
    CASE WHEN cardinality(l.address) >= 2 THEN l.address[1] || '.' || l.address[2] END,
    l.normal::text, NULL::int, NULL::int
FROM log l
UNION ALL SELECT {ROOT_ROW}, w.root, w.tag, NULL, NULL, NULL, NULL, NULL, NULL,
    CASE WHEN w.tag = 'r' THEN {_HAS_ROWS} END, w.kinds
FROM wanted w
"""
_FIRST: Final = "@first@"  # placeholders filled in by ``reads``
_ONLY: Final = "@only@"
_ALIAS_RE: Final = re.compile(r'(?s)(.*?)\s+AS\s+("[^"]+"|\w+)')


def select_list(query: str) -> tuple[list[str], str]:
    """The top-level items of ``query``'s SELECT list, and the rest of it from FROM on."""
    items: list[str] = []
    depth, quote = 0, ""
    start = i = query.index("SELECT") + len("SELECT")
    while i < len(query):
        ch = query[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif depth == 0 and ch == ",":
            items.append(query[start:i].strip())
            start = i + 1
        elif depth == 0 and query.startswith("FROM", i) and not query[i - 1].isalnum():
            items.append(query[start:i].strip())
            return items, query[i:]
        i += 1
    raise ValueError(f"no FROM in {query[:60]!r}")


@dataclass(frozen=True, slots=True)
class Read:
    """How one kind is read: its family tag, its attributes' names, the query for every
    family, and (None for the kinds read whole) the query for the families whose root OIDs
    are in parameter $1 (oid[]). Both return: root OID, then as text: ident, key, parent,
    summary and the attributes."""

    tag: str
    names: tuple[str, ...]
    full: str
    some: str | None


@dataclass(frozen=True, slots=True)
class Reads:
    """The statements of a snapshot: one per kind, and ``logged`` and ``wanted`` (with
    ``$n`` parameters, for PREPARE), which say what to read: ``logged`` from the DDL log after
    entry $1 (bigint), ``wanted`` from roots ($1 to $3: oid[], $4: boolean).

    A kind's ``some`` query has no user-OID range: the roots bound its rows, and a range
    planned while the statistics say no row is above FIRST_USER_OID (the template's) looks
    like one row; a nested loop over two such ranges, once per snapshot, grows with the
    square of the schema.
    """

    kinds: tuple[Read, ...]
    logged: str
    wanted: str


def reads(version: int, skip: str) -> Reads:
    """The statements of a snapshot for a server of ``version``, leaving out ``skip``."""
    out = []
    for kind in kinds(version):
        items, rest = select_list(kind.template.format(only=_ONLY, skip=skip, first=_FIRST))
        attrs = [_ALIAS_RE.fullmatch(item) for item in items[5:]]
        if not all(attrs):
            raise ValueError(f"an attribute without a name in {kind.template[:60]!r}")
        names = tuple(m.group(2).strip('"') for m in attrs if m)
        # the root an OID; the rest text, as the reader keeps it
        texts = [*items[1:5], *(m.group(1) for m in attrs if m)]
        query = f"SELECT {items[0]}, {', '.join(f'({t})::text' for t in texts)}\n{rest}"
        full = query.replace(_FIRST, str(FIRST_USER_OID)).replace(_ONLY, "")
        some = None
        if kind.root is not None:
            only = f"AND {kind.root} = ANY ($1::oid[])"
            some = query.replace(_FIRST, "0").replace(_ONLY, only)
        out.append(Read(kind.tag, names, full, some))
    return Reads(
        tuple(out),
        logged=_WANTED.format(asked=_FROM_LOG),
        wanted=_WANTED.format(asked=_FROM_ROOTS),
    )


SEEN: Final = f"SELECT coalesce(max(id), 0) FROM {WATCH_SCHEMA}.ddl_log"
TRIM: Final = f"DELETE FROM {WATCH_SCHEMA}.ddl_log WHERE id <= {{seen}}"
WATCHERS: Final = (
    f"SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE '{WATCH_SCHEMA}\\_%'"
    " AND evtenabled = 'A'"
)
