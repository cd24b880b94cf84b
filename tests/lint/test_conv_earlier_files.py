"""CONV001 and CONV003 read the earlier migrations of the folder (the cases of
tests/lint/cases/ are single files)."""

from __future__ import annotations

from pathlib import Path

from sqlmig.lint import sources
from sqlmig.lint.engine import Settings, lint_source


def lint_folder(tmp_path: Path, files: dict[str, str], rule: str) -> dict[str, list[str]]:
    """Findings of ``rule`` per up file, as "line:col"."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    paths = sorted(tmp_path / name for name in files)
    loaded, errors = sources.load(paths, tmp_path)
    assert errors == []
    out = {}
    for source in loaded:
        found = lint_source(source, Settings())
        out[source.file.path.name] = [f"{f.line}:{f.column}" for f in found if f.rule == rule]
    return out


def test_an_index_from_an_earlier_migration_covers_a_foreign_key(tmp_path: Path) -> None:
    files = {
        "001_orders.up.sql": (
            "CREATE TABLE IF NOT EXISTS orders (id uuid PRIMARY KEY, customer_id uuid,"
            " coupon_id uuid);\n"
            "CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON orders (customer_id, id);\n"
            "CREATE INDEX IF NOT EXISTS orders_coupon_id_idx ON orders (coupon_id);\n"
        ),
        "002_fk.up.sql": (
            "ALTER TABLE orders ADD CONSTRAINT orders_customer_fkey\n"
            "    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\n"
        ),
        "003_drop.up.sql": "DROP INDEX CONCURRENTLY IF EXISTS orders_coupon_id_idx;\n",
        "004_fk.up.sql": (
            "ALTER TABLE orders ADD CONSTRAINT orders_coupon_fkey\n"
            "    FOREIGN KEY (coupon_id) REFERENCES coupons (id) NOT VALID;\n"
        ),
        "005_rename.up.sql": "ALTER TABLE IF EXISTS orders RENAME TO purchases;\n",
        "006_fk.up.sql": (
            "ALTER TABLE purchases ADD CONSTRAINT purchases_customer_fkey\n"
            "    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\n"
        ),
    }
    found = lint_folder(tmp_path, files, "CONV001")
    assert found == {
        "001_orders.up.sql": [],
        "002_fk.up.sql": [],
        "003_drop.up.sql": [],
        "004_fk.up.sql": ["2:5"],
        "005_rename.up.sql": [],
        "006_fk.up.sql": [],
    }


def test_a_key_added_later_reads_the_column_type_of_an_earlier_migration(
    tmp_path: Path,
) -> None:
    files = {
        "001_countries.up.sql": (
            "CREATE TABLE IF NOT EXISTS countries (code text NOT NULL, name text);\n"
            "CREATE TABLE IF NOT EXISTS regions (id serial NOT NULL, name text);\n"
        ),
        "002_keys.up.sql": (
            "ALTER TABLE countries ADD CONSTRAINT countries_pkey PRIMARY KEY (code);\n"
            "ALTER TABLE regions ADD CONSTRAINT regions_pkey PRIMARY KEY (id);\n"
        ),
    }
    found = lint_folder(tmp_path, files, "CONV003")
    assert found == {"001_countries.up.sql": [], "002_keys.up.sql": ["1:53"]}
