"""The README's Linting section is true: its rule table and its output examples."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from sqlmig.lint.explain import README_END, README_START, markdown_table
from tests.helpers import REPO, make_project, pair, run_cli

README = REPO / "README.md"
EXAMPLE_UP = (
    "-- Orders are looked up by customer on every page view.\n"
    "CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);\n"
)
EXAMPLE_DOWN = "DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;\n"


def test_rule_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.partition(README_START)[2].partition(README_END)[0]
    assert table == f"\n{markdown_table()}", "run 'make rules-table' and commit README.md"


def lint_examples() -> list[tuple[list[str], str]]:
    """(arguments, output) of every ```console block of the Linting section."""
    section = README.read_text(encoding="utf-8").partition("\n## Linting\n")[2]
    section = section.partition("\n## ")[0]
    blocks = re.findall(r"```console\n\$ sqlmig ([^\n]*)\n(.*?)```", section, re.DOTALL)
    return [(shlex.split(args), output) for args, output in blocks]


@pytest.mark.parametrize("args,expected", lint_examples())
def test_output_examples_are_real(
    args: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = make_project(
        tmp_path, None, pair(12, "index_orders_customer", EXAMPLE_UP, EXAMPLE_DOWN)
    )
    result = run_cli(project, *args)
    assert result.code == 1
    shown = result.out if "--format" in args else result.out + result.err
    assert shown == expected


def test_every_format_has_an_example() -> None:
    formats = {" ".join(args) for args, _ in lint_examples()}
    assert formats == {"lint", "lint --format json", "lint --format github"}
