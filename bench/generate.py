"""N realistic migrations, written in the layout each benchmarked tool reads; same SQL for all.

A cycle of five migrations per table: create it (identity key, foreign key to the previous
table, default, index, comment), add a column with its index, seed rows (quoted strings with
doubled quotes), a plpgsql trigger function in dollar quotes with its trigger, a view. Every down
undoes its up exactly, so applying and reverting everything leaves an empty schema.

Run ``python bench/generate.py N FOLDER`` to look at one set; the harness imports it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    up: str
    down: str

    def label(self, width: int) -> str:
        return f"{self.version:0{width}d}_{self.name}"


def _table(k: int) -> tuple[str, str, str]:
    parent = f",\n    parent_id bigint REFERENCES app_t{k - 1} (id)" if k > 0 else ""
    up = (
        f"-- table {k}: one of the app's tables\n"
        f"CREATE TABLE app_t{k} (\n"
        "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
        "    name text NOT NULL,\n"
        "    status text NOT NULL DEFAULT 'new',\n"
        f"    created_at timestamptz NOT NULL DEFAULT now(){parent}\n"
        ");\n"
        f"CREATE INDEX app_t{k}_created_at_idx ON app_t{k} (created_at);\n"
        f"COMMENT ON TABLE app_t{k} IS 'table {k}; the app''s data';\n"
    )
    return f"create_app_t{k}", up, f"DROP TABLE app_t{k};\n"


def _column(k: int) -> tuple[str, str, str]:
    up = (
        f"ALTER TABLE app_t{k} ADD COLUMN email text;\n"
        f"CREATE INDEX app_t{k}_email_idx ON app_t{k} (lower(email));\n"
    )
    down = f"DROP INDEX app_t{k}_email_idx;\nALTER TABLE app_t{k} DROP COLUMN email;\n"
    return f"add_app_t{k}_email", up, down


def _seed(k: int) -> tuple[str, str, str]:
    rows = ",\n".join(
        f"    ('seed {k}.{i}: it''s row {i}; /* not a comment */', 'user{i}@example.com')"
        for i in range(5)
    )
    up = f"INSERT INTO app_t{k} (name, email) VALUES\n{rows};\n"
    return f"seed_app_t{k}", up, f"DELETE FROM app_t{k} WHERE name LIKE 'seed {k}.%';\n"


def _function(k: int) -> tuple[str, str, str]:
    up = (
        f"CREATE FUNCTION app_t{k}_tidy() RETURNS trigger\n"
        "LANGUAGE plpgsql AS $fn$\n"
        "BEGIN\n"
        "    -- a semicolon; and a 'quote' inside the body\n"
        "    NEW.name := trim(NEW.name);\n"
        "    IF NEW.email IS NOT NULL THEN\n"
        "        NEW.email := lower(NEW.email);\n"
        "    END IF;\n"
        "    RETURN NEW;\n"
        "END;\n"
        "$fn$;\n"
        f"CREATE TRIGGER app_t{k}_tidy BEFORE INSERT OR UPDATE ON app_t{k}\n"
        f"    FOR EACH ROW EXECUTE FUNCTION app_t{k}_tidy();\n"
        f"CREATE FUNCTION app_t{k}_count() RETURNS bigint LANGUAGE sql STABLE AS $$\n"
        f"    SELECT count(*) FROM app_t{k}\n"
        "$$;\n"
    )
    down = (
        f"DROP FUNCTION app_t{k}_count();\n"
        f"DROP TRIGGER app_t{k}_tidy ON app_t{k};\n"
        f"DROP FUNCTION app_t{k}_tidy();\n"
    )
    return f"tidy_app_t{k}", up, down


def _view(k: int) -> tuple[str, str, str]:
    up = (
        f"CREATE VIEW app_t{k}_recent AS\n"
        f"    SELECT id, name, email, created_at FROM app_t{k}\n"
        "    WHERE created_at > now() - interval '30 days' AND status <> 'gone';\n"
    )
    return f"app_t{k}_recent_view", up, f"DROP VIEW app_t{k}_recent;\n"


_KINDS = (_table, _column, _seed, _function, _view)


def migrations(n: int) -> Iterator[Migration]:
    for i in range(n):
        name, up, down = _KINDS[i % len(_KINDS)](i // len(_KINDS))
        yield Migration(i + 1, name, up, down)


def width(n: int) -> int:
    return max(4, len(str(n)))


def write_sqlmig(folder: Path, ms: Sequence[Migration]) -> None:
    """``NNNN_name.up.sql`` / ``.down.sql`` pairs."""
    folder.mkdir(parents=True, exist_ok=True)
    w = width(len(ms))
    for m in ms:
        (folder / f"{m.label(w)}.up.sql").write_text(m.up)
        (folder / f"{m.label(w)}.down.sql").write_text(m.down)


def write_dbmate(folder: Path, ms: Sequence[Migration]) -> None:
    """One ``NNNN_name.sql`` per migration with ``-- migrate:up`` / ``-- migrate:down``."""
    folder.mkdir(parents=True, exist_ok=True)
    w = width(len(ms))
    for m in ms:
        text = f"-- migrate:up\n{m.up}\n-- migrate:down\n{m.down}"
        (folder / f"{m.label(w)}.sql").write_text(text)


def write_yoyo(folder: Path, ms: Sequence[Migration]) -> None:
    """``NNNN_name.sql`` and ``NNNN_name.rollback.sql``."""
    folder.mkdir(parents=True, exist_ok=True)
    w = width(len(ms))
    for m in ms:
        (folder / f"{m.label(w)}.sql").write_text(m.up)
        (folder / f"{m.label(w)}.rollback.sql").write_text(m.down)


def write_concatenated(up: Path, down: Path, ms: Sequence[Migration]) -> None:
    """Every up in order, every down in reverse order: what ``psql -1 -f`` runs."""
    up.write_text("".join(m.up for m in ms))
    down.write_text("".join(m.down for m in reversed(ms)))


@dataclass(frozen=True, slots=True)
class Layouts:
    """One generated set in every layout, under ``root``."""

    root: Path
    n: int

    @property
    def sqlmig(self) -> Path:
        return self.root / "sqlmig" / "migrations"

    @property
    def dbmate(self) -> Path:
        return self.root / "dbmate" / "db" / "migrations"

    @property
    def yoyo(self) -> Path:
        return self.root / "yoyo" / "migrations"

    @property
    def all_up(self) -> Path:
        return self.root / "all.up.sql"

    @property
    def all_down(self) -> Path:
        return self.root / "all.down.sql"


def write_all(root: Path, n: int) -> Layouts:
    ms = list(migrations(n))
    layouts = Layouts(root, n)
    write_sqlmig(layouts.sqlmig, ms)
    write_dbmate(layouts.dbmate, ms)
    write_yoyo(layouts.yoyo, ms)
    write_concatenated(layouts.all_up, layouts.all_down, ms)
    return layouts


def big_file(path: Path, size: int) -> tuple[int, str]:
    """An up file of about ``size`` bytes (one table, many seed INSERTs); returns its size and
    the down SQL."""
    header = (
        "CREATE TABLE big_seed (id bigint PRIMARY KEY, label text NOT NULL, note text);\n"
        "CREATE INDEX big_seed_label_idx ON big_seed (label);\n"
    )
    rows = ",\n".join(
        f"    ({{0}}{i:03d}, 'label {i}: it''s seeded; -- not a comment', 'note {i} /* plain */')"
        for i in range(100)
    )
    chunk = "INSERT INTO big_seed (id, label, note) VALUES\n" + rows + ";\n"
    with path.open("w") as out:
        written = out.write(header)
        block = 0
        while written < size:
            written += out.write(chunk.replace("{0}", str(block + 1)))
            block += 1
    return written, "DROP TABLE big_seed;\n"


def main() -> int:
    n = int(sys.argv[1])
    layouts = write_all(Path(sys.argv[2]), n)
    print(f"{n} migrations in every layout under {layouts.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
