"""What rules know about a file: DO bodies, transactions, lock_timeout, objects created."""

from __future__ import annotations

from pathlib import Path

from sqlmig.lint import sources
from sqlmig.lint.context import build, transaction_control
from sqlmig.lint.model import ObjectName
from tests.lint.casefile import context

GUARDED_DO = """\
DO $body$
<<outer>>
DECLARE
    n int := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'c') THEN
        ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;
    ELSE
        RAISE NOTICE 'exists; % skipped', ';';
    END IF;
    FOR r IN SELECT * FROM t LOOP
        UPDATE u SET x = CASE WHEN r.a > 0 THEN 1 ELSE 0 END;
    END LOOP;
    BEGIN
        CREATE TYPE mood AS ENUM ('ok');
    EXCEPTION WHEN duplicate_object OR SQLSTATE '42P07' THEN NULL;
    END;
    DROP INDEX i;  -- plain
END outer
$body$;
"""


def test_do_body_statements_follow_their_do() -> None:
    ctx = context(GUARDED_DO)
    do, *body = ctx.statements
    assert do.kw(0) == "DO" and not do.in_do
    assert [s.sql.split()[0] for s in body] == [
        "ALTER",
        "RAISE",
        "UPDATE",
        "CREATE",
        "NULL",
        "DROP",
    ]
    assert all(s.parent is do and s.top == 0 for s in body)
    assert [s.index for s in ctx.statements] == list(range(7))
    assert ctx.top == (do,)


def test_do_body_guards() -> None:
    alter, raise_, update, create, null, drop = context(GUARDED_DO).statements[1:]
    assert alter.guards == {"catalog-check", "exists-check"}
    assert raise_.guarded  # the ELSE branch of a guarded IF
    assert not update.guarded
    assert create.guards == {"exception"}
    assert create.handled_conditions == {"duplicate_object", "42p07"}
    assert not null.guarded and not drop.guarded


def test_do_body_positions_are_file_positions() -> None:
    ctx = context(GUARDED_DO)
    alter = ctx.statements[1]
    assert (alter.line, alter.column) == (7, 9)
    assert alter.sql == "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID"
    assert alter.position(alter.find("CHECK") or 0) == (7, 40)


def test_do_bodies_in_other_languages_or_unreadable_are_not_split() -> None:
    assert len(context("DO LANGUAGE plpython3u $$ x = 1; y = 2 $$;").statements) == 1
    assert len(context("DO $$ BEGIN PERFORM 'oops; END $$;").statements) == 1
    assert len(context("DO $$ BEGIN DROP TABLE t; END $$ LANGUAGE plpgsql;").statements) == 2


def test_transactional_file_runs_in_one_transaction() -> None:
    ctx = context("CREATE TABLE a (i int);\nCREATE TABLE b (i int);")
    assert ctx.mode == "transaction"
    assert [s.tx for s in ctx.statements] == [0, 0]
    assert all(s.in_transaction_block for s in ctx.statements)


def test_segmented_file_runs_concurrently_alone() -> None:
    ctx = context("SELECT 1;\nSELECT 2;\nCREATE INDEX CONCURRENTLY i ON t (a);\nSELECT 3;")
    assert ctx.mode == "segmented"
    one, two, cic, three = ctx.statements
    assert one.tx == two.tx != cic.tx != three.tx
    assert [s.in_transaction_block for s in ctx.statements] == [True, True, False, True]


def test_no_transaction_file_honours_explicit_blocks() -> None:
    text = "-- sqlmig:no-transaction\nSELECT 1;\nBEGIN;\nSELECT 2;\nSELECT 3;\nCOMMIT;\nSELECT 4;"
    ctx = context(text)
    s1, begin, s2, s3, commit, s4 = ctx.statements
    assert ctx.no_transaction
    assert begin.tx == s2.tx == s3.tx == commit.tx
    assert len({s1.tx, s2.tx, s4.tx}) == 3
    assert [s.in_transaction_block for s in (s1, s2, s3, s4)] == [False, True, True, False]
    assert [s.explicit_transaction for s in (begin, s2, commit, s4)] == [False, True, True, False]


def test_transaction_control_words() -> None:
    text = "BEGIN; START TRANSACTION; SAVEPOINT a; ROLLBACK TO a; RELEASE a; END; ABORT;"
    kinds = [transaction_control(s) for s in context(f"-- sqlmig:no-transaction\n{text}").top]
    assert kinds == ["begin", "begin", "savepoint", "rollback-to", "release", "commit", "rollback"]
    assert transaction_control(context("COMMIT PREPARED 'x';").top[0]) is None


def test_lock_timeout_from_config_directive_and_set() -> None:
    text = "SELECT 1;\nSET lock_timeout = '2s';\nSELECT 2;\nRESET lock_timeout;\nSELECT 3;"
    first, _, after_set, _, after_reset = context(text, lock_timeout_ms=0).statements
    assert (first.lock_timeout_ms, after_set.lock_timeout_ms, after_reset.lock_timeout_ms) == (
        0,
        2000,
        0,
    )
    assert not first.lock_timeout_set_in_file and after_set.lock_timeout_set_in_file
    ctx = context("-- sqlmig:lock-timeout 750ms\nSELECT 1;", lock_timeout_ms=0)
    assert ctx.lock_timeout_ms == 750 == ctx.statements[0].lock_timeout_ms


def test_set_local_lock_timeout_ends_with_its_transaction() -> None:
    text = (
        "SET LOCAL lock_timeout TO 1000;\nSELECT 1;\n"
        "CREATE INDEX CONCURRENTLY i ON t (a);\nSELECT 2;"
    )
    _, select, cic, after = context(text, lock_timeout_ms=0).statements
    assert select.lock_timeout_ms == 1000
    assert cic.lock_timeout_ms == 0 == after.lock_timeout_ms


def test_set_config_and_units() -> None:
    text = "SELECT set_config('lock_timeout', '1.5min', false);\nSELECT 1;"
    assert context(text, lock_timeout_ms=0).statements[1].lock_timeout_ms == 90_000


def test_created_before() -> None:
    ctx = context(
        "CREATE TABLE IF NOT EXISTS app.t (a int);\n"
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a ON app.t (a);\n"
        "CREATE TYPE mood AS ENUM ('ok');\n"
        "ALTER TABLE app.t RENAME TO t2;\n"
        "SELECT 1;"
    )
    create, index, _, _, last = ctx.statements

    def name(*parts: str) -> ObjectName:
        return ObjectName(parts, 0, 0, False)

    assert ctx.created_before(last, "table", name("t"))
    assert ctx.created_before(last, "table", name("app", "t"))
    assert not ctx.created_before(last, "table", name("other", "t"))
    assert not ctx.created_before(create, "table", name("t"))
    assert ctx.created_before(last, "table", name("t2"))
    assert ctx.created_before(last, "index", name("t_a"))
    assert ctx.created_before(last, "type", name("mood"))
    assert not ctx.created_before(index, "type", name("mood"))
    assert [s.sql for s in ctx.earlier(index)] == [create.sql]


def test_earlier_files_of_the_folder(tmp_path: Path) -> None:
    texts = {
        "001_a.up.sql": "CREATE TABLE IF NOT EXISTS a (id int);\n",
        "002_b.up.sql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_id ON a (id);\n",
        "002_b.down.sql": "DROP INDEX CONCURRENTLY IF EXISTS a_id;\n",
        "003_c.up.sql": "SELECT 'unterminated;\n",
        "004_d.up.sql": "SELECT 1;\n",
        "notes.sql": "SELECT 2;\n",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    loaded, _ = sources.load([tmp_path / "002_b.down.sql", tmp_path / "notes.sql"], tmp_path)
    down, notes = (build(source, 5000) for source in loaded)
    assert [c.path.name for c in down.earlier_files()] == ["001_a.up.sql"]
    assert notes.earlier_files() == []
    (last,) = sources.load([tmp_path / "004_d.up.sql"], tmp_path)[0]
    earlier = build(last, 5000).earlier_files()
    assert [c.path.name for c in earlier] == ["001_a.up.sql", "002_b.up.sql"]  # 003 cannot split
    assert build(last, 5000).earlier_files()[0] is earlier[0]  # modelled once per run
    index = earlier[1].statements[0]
    assert index.name_after("CREATE [UNIQUE] INDEX") == ObjectName(("a_id",), 6, 7, False)
