"""config.yaml (SPEC 4): targets, env expansion, validation errors naming the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlmig.config import Config, LintConfig, find_config_path, load_config
from sqlmig.errors import ConfigError

SECRET = "s3cr3t-pw"


def load_text(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env or {}, tmp_path)


def config_error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text, env)
    return caught.value


# --- no file, minimal file, full file ---------------------------------------------------------


def test_without_a_config_file_there_is_one_default_target_in_cwd(tmp_path: Path) -> None:
    config = load_config(None, {}, tmp_path)
    target = config.target(None)
    assert (config.path, config.root, config.default_target) == (None, tmp_path, "default")
    assert (target.name, target.dsn, target.dsn_source) == ("default", None, "embedded")
    assert target.migrations == tmp_path / "migrations"
    assert (config.history_schema, config.history_name) == ("public", "sqlmig_history")
    assert (config.lock_timeout_ms, config.lock_retries, config.statement_timeout_ms) == (
        5000,
        3,
        0,
    )
    assert (config.versioning, config.lint, config.immutable_ref) == (
        "sequence",
        LintConfig(),
        None,
    )


def test_without_a_config_file_database_url_is_used(tmp_path: Path) -> None:
    target = load_config(None, {"DATABASE_URL": "postgresql://h/db"}, tmp_path).target(None)
    assert (target.dsn, target.dsn_source) == ("postgresql://h/db", "DATABASE_URL")


def test_an_empty_database_url_counts_as_unset(tmp_path: Path) -> None:
    target = load_config(None, {"DATABASE_URL": ""}, tmp_path).target(None)
    assert (target.dsn, target.dsn_source) == (None, "embedded")


@pytest.mark.parametrize("text", ["", "\n# only a comment\n", "---\n"])
def test_an_empty_config_file_means_defaults(tmp_path: Path, text: str) -> None:
    config = load_text(tmp_path, text)
    assert list(config.targets) == ["default"]
    assert config.target(None).migrations == tmp_path / "migrations"


def test_a_minimal_config_is_one_implicit_target(tmp_path: Path) -> None:
    config = load_text(tmp_path, "dsn: postgresql://h/app\nmigrations: db/migrations\n")
    target = config.target(None)
    assert (target.name, target.dsn, target.dsn_source) == (
        "default",
        "postgresql://h/app",
        "config",
    )
    assert target.migrations == tmp_path / "db/migrations"


def test_relative_paths_resolve_against_the_config_files_directory(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "config.yaml").write_text("migrations: sql\n")
    config = load_config(Path("project/config.yaml"), {}, tmp_path)
    assert config.root == project
    assert config.target(None).migrations == project / "sql"


def test_an_absolute_migrations_path_is_kept(tmp_path: Path) -> None:
    assert load_text(tmp_path, "migrations: /srv/m\n").target(None).migrations == Path("/srv/m")


SPEC_EXAMPLE = """\
targets:
  core:
    dsn: ${CORE_DATABASE_URL}
    migrations: migrations/core
  iam:
    dsn: ${IAM_DATABASE_URL:-postgresql://localhost/iam}
    migrations: migrations/iam
default_target: core
history_table: ops.sqlmig_history
lock_timeout: 10s
lock_retries: 5
statement_timeout: 30min
versioning: timestamp
lint:
  disable: [CONV009]
  severity: {DEST007: error, LOCK002: info}
immutable_ref: origin/main
"""


def test_the_spec_example_loads(tmp_path: Path) -> None:
    config = load_text(tmp_path, SPEC_EXAMPLE, {"CORE_DATABASE_URL": "postgresql://db/core"})
    assert list(config.targets) == ["core", "iam"]
    assert config.target("core").dsn == "postgresql://db/core"
    assert config.target("iam").dsn == "postgresql://localhost/iam"
    assert config.target("iam").migrations == tmp_path / "migrations/iam"
    assert config.default_target == "core"
    assert (config.history_table, config.history_log_name) == (
        "ops.sqlmig_history",
        "sqlmig_history_log",
    )
    assert (config.lock_timeout_ms, config.lock_retries, config.statement_timeout_ms) == (
        10_000,
        5,
        1_800_000,
    )
    assert config.versioning == "timestamp"
    assert config.lint.disable == frozenset({"CONV009"})
    assert dict(config.lint.severity) == {"DEST007": "error", "LOCK002": "info"}
    assert config.immutable_ref == "origin/main"


def test_targets_keep_file_order_and_the_first_is_the_default(tmp_path: Path) -> None:
    text = "targets:\n  zeta: {migrations: z}\n  alpha: {migrations: a}\n  mid: {migrations: m}\n"
    config = load_text(tmp_path, text)
    assert list(config.targets) == ["zeta", "alpha", "mid"]
    assert config.default_target == "zeta"


def test_database_url_fills_targets_without_a_dsn(tmp_path: Path) -> None:
    text = "targets:\n  a: {migrations: a}\n  b: {migrations: b, dsn: 'postgresql://b/b'}\n"
    config = load_text(tmp_path, text, {"DATABASE_URL": "postgresql://env/db"})
    assert (config.target("a").dsn, config.target("a").dsn_source) == (
        "postgresql://env/db",
        "DATABASE_URL",
    )
    assert config.target("b").dsn_source == "config"


def test_an_empty_expanded_dsn_falls_back(tmp_path: Path) -> None:
    target = load_text(tmp_path, "dsn: ${CORE_URL:-}\n").target(None)
    assert (target.dsn, target.dsn_source) == (None, "embedded")


# --- ${VAR} expansion -------------------------------------------------------------------------

EXPANSIONS = [
    ("${A}", {"A": "x"}, "x"),
    ("${A}", {"A": ""}, ""),
    ("${A:-d}", {}, "d"),
    ("${A:-d}", {"A": ""}, "d"),
    ("${A:-d}", {"A": "v"}, "v"),
    ("${A:-postgresql://u@h:5/db?x=1}", {}, "postgresql://u@h:5/db?x=1"),
    ("${A:-}", {}, ""),
    ("pre-${A}-${B}-post", {"A": "1", "B": "2"}, "pre-1-2-post"),
    ("$${A}", {"A": "x"}, "${A}"),
    ("a$$b$c", {}, "a$$b$c"),
    ("$A", {"A": "x"}, "$A"),
    ("${A}", {"A": "${B}"}, "${B}"),  # values are not expanded again
]


@pytest.mark.parametrize(("template", "env", "expected"), EXPANSIONS)
def test_env_references_are_expanded_with_shell_semantics(
    tmp_path: Path, template: str, env: dict[str, str], expected: str
) -> None:
    config = load_text(tmp_path, f"dsn: 'x{template}'\n", env)
    assert config.target(None).dsn == f"x{expected}"


def test_expansion_applies_to_numbers_given_as_strings(tmp_path: Path) -> None:
    text = "lock_retries: ${RETRIES}\nlock_timeout: ${LT:-2s}\n"
    config = load_text(tmp_path, text, {"RETRIES": "7"})
    assert (config.lock_retries, config.lock_timeout_ms) == (7, 2000)


def test_expansion_applies_to_list_items(tmp_path: Path) -> None:
    config = load_text(tmp_path, "lint:\n  disable: ['${R}']\n", {"R": "LOCK001"})
    assert config.lint.disable == frozenset({"LOCK001"})


# --- errors name the key path -----------------------------------------------------------------

ERRORS: list[tuple[str, str, dict[str, str], str]] = [
    (
        "unset-variable",
        "targets:\n  core:\n    dsn: ${CORE_DATABASE_URL}\n    migrations: m\n",
        {},
        "targets.core.dsn: environment variable CORE_DATABASE_URL is not set",
    ),
    (
        "unset-variable-minimal",
        "dsn: postgresql://${DB_HOST}/x\n",
        {},
        "dsn: environment variable DB_HOST is not set",
    ),
    ("malformed-reference", "migrations: ${M\n", {}, "migrations: malformed ${...}"),
    ("dash-default-is-malformed", "migrations: ${M-x}\n", {}, "migrations: malformed ${...}"),
    (
        "unknown-target-key",
        "targets:\n  core:\n    migration: m\n",
        {},
        "targets.core: unknown key 'migration'; did you mean 'migrations'?",
    ),
    (
        "unknown-top-level-key",
        "lock_timout: 5s\n",
        {},
        "config.yaml: unknown key 'lock_timout'; did you mean 'lock_timeout'?",
    ),
    ("unknown-key-no-guess", "frobnicate: 1\n", {}, "config.yaml: unknown key 'frobnicate'"),
    (
        "unknown-lint-key",
        "lint:\n  disabled: [LOCK001]\n",
        {},
        "lint: unknown key 'disabled'; did you mean 'disable'?",
    ),
    ("top-level-list", "- a\n- b\n", {}, "config.yaml: must be a mapping, not a list"),
    ("targets-not-a-mapping", "targets: core\n", {}, "targets: must be a mapping, not a string"),
    ("no-targets", "targets: {}\n", {}, "targets: must name at least one target"),
    ("empty-target", "targets:\n  core:\n", {}, "targets.core: must be a mapping, not empty"),
    (
        "target-without-migrations",
        "targets:\n  core:\n    dsn: postgresql://h/db\n",
        {},
        "targets.core: needs 'migrations'",
    ),
    (
        "bad-target-name",
        "targets:\n  'core db': {migrations: m}\n",
        {},
        "targets.core db: target names may only contain",
    ),
    (
        "numeric-target-name",
        "targets:\n  1: {migrations: m}\n",
        {},
        "targets: key 1 must be a string",
    ),
    (
        "migrations-not-a-string",
        "targets:\n  core: {migrations: [a, b]}\n",
        {},
        "targets.core.migrations: must be a string, not a list",
    ),
    (
        "empty-migrations",
        "targets:\n  core: {migrations: ''}\n",
        {},
        "targets.core.migrations: must not be empty",
    ),
    (
        "top-level-dsn-with-targets",
        "dsn: postgresql://h/db\ntargets:\n  core: {migrations: m}\n",
        {},
        "dsn: cannot be combined with 'targets'",
    ),
    (
        "top-level-migrations-with-targets",
        "migrations: m\ntargets:\n  core: {migrations: m}\n",
        {},
        "migrations: cannot be combined with 'targets'",
    ),
    (
        "unknown-default-target",
        "targets:\n  core: {migrations: m}\ndefault_target: cor\n",
        {},
        "default_target: 'cor' is not a target; did you mean 'core'?; known targets: core",
    ),
    (
        "history-table-injection",
        "history_table: 'x; drop table y'\n",
        {},
        "history_table: 'x; drop table y' is not a valid table name",
    ),
    (
        "history-table-three-parts",
        "history_table: a.b.c\n",
        {},
        "history_table: 'a.b.c' is not a valid",
    ),
    (
        "history-table-quoted",
        "history_table: '\"History\"'\n",
        {},
        "history_table: '\"History\"' is not a",
    ),
    (
        "history-table-upper-case",
        "history_table: Public.H\n",
        {},
        "history_table: 'Public.H' is not a",
    ),
    (
        "history-table-space",
        "history_table: 'my table'\n",
        {},
        "history_table: 'my table' is not a",
    ),
    ("history-table-empty-schema", "history_table: .h\n", {}, "history_table: '.h' is not a"),
    ("history-table-empty-name", "history_table: s.\n", {}, "history_table: 's.' is not a"),
    ("history-table-digit-first", "history_table: 1h\n", {}, "history_table: '1h' is not a"),
    (
        "history-table-not-a-string",
        "history_table: 5\n",
        {},
        "history_table: must be a string, not a number",
    ),
    (
        "history-table-too-long-for-its-log-table",
        f"history_table: {'h' * 60}\n",
        {},
        f"history_table: '{'h' * 60}' is not a valid table name",
    ),
    (
        "history-table-schema-too-long",
        f"history_table: {'s' * 64}.h\n",
        {},
        "history_table: 'sss",
    ),
    (
        "history-table-reserved-schema",
        "history_table: pg_catalog.h\n",
        {},
        "history_table: schema 'pg_catalog' is reserved by PostgreSQL",
    ),
    (
        "lock-timeout-unknown-unit",
        "lock_timeout: 5 parsecs\n",
        {},
        "lock_timeout: '5 parsecs' has unknown unit 'parsecs'",
    ),
    (
        "lock-timeout-float",
        "lock_timeout: 1.5\n",
        {},
        "lock_timeout: must be a duration such as 5s, not a number",
    ),
    (
        "lock-timeout-bool",
        "lock_timeout: true\n",
        {},
        "lock_timeout: must be a duration such as 10s, not true/false",
    ),
    ("lock-timeout-negative", "lock_timeout: -5\n", {}, "lock_timeout: must not be negative: -5"),
    (
        "statement-timeout-empty",
        "statement_timeout:\n",
        {},
        "statement_timeout: must be a duration",
    ),
    (
        "lock-retries-negative",
        "lock_retries: -1\n",
        {},
        "lock_retries: must be a whole number >= 0",
    ),
    (
        "lock-retries-word",
        "lock_retries: three\n",
        {},
        "lock_retries: must be a whole number >= 0, not a string",
    ),
    (
        "lock-retries-bool",
        "lock_retries: yes\n",
        {},
        "lock_retries: must be a whole number >= 0, not true/false",
    ),
    ("versioning", "versioning: semver\n", {}, "versioning: must be one of sequence, timestamp"),
    ("lint-not-a-mapping", "lint: [LOCK001]\n", {}, "lint: must be a mapping, not a list"),
    (
        "lint-disable-string",
        "lint:\n  disable: CONV009\n",
        {},
        "lint.disable: must be a list of rule IDs",
    ),
    (
        "lint-disable-bad-id",
        "lint:\n  disable: [LOCK001, conv9]\n",
        {},
        "lint.disable[1]: 'conv9' is not a rule ID like LOCK001",
    ),
    (
        "lint-severity-level",
        "lint:\n  severity: {DEST007: fatal}\n",
        {},
        "lint.severity.DEST007: must be one of error, warning, info",
    ),
    (
        "lint-severity-empty-level",
        "lint:\n  severity: {DEST007: }\n",
        {},
        "lint.severity.DEST007: must be one of error, warning, info",
    ),
    (
        "lint-severity-bad-id",
        "lint:\n  severity: {dest7: error}\n",
        {},
        "lint.severity.dest7: 'dest7' is not a rule ID like LOCK001",
    ),
    (
        "immutable-ref-option-injection",
        "immutable_ref: --upload-pack=touch\n",
        {},
        "immutable_ref: '--upload-pack=touch' is not a git ref",
    ),
    (
        "immutable-ref-space",
        "immutable_ref: 'origin main'\n",
        {},
        "immutable_ref: 'origin main' is not",
    ),
    (
        "immutable-ref-date",
        "immutable_ref: 2024-01-01\n",
        {},
        "immutable_ref: must be a string, not a date",
    ),
]


@pytest.mark.parametrize(
    ("text", "env", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_config_errors_name_the_key_path(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    error = config_error(tmp_path, text, env)
    assert error.message.startswith(message)
    assert error.hint


def test_an_unset_variable_hint_shows_the_default_syntax(tmp_path: Path) -> None:
    error = config_error(tmp_path, "dsn: ${CORE_DATABASE_URL}\n")
    assert "${CORE_DATABASE_URL:-default}" in error.hint


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("targets:\n  core: [\n", r"config\.yaml:3:1"),
        ("lock_timeout: 5s\n  bad: indent\n", r"config\.yaml:2:6"),
        ("a: 'unterminated\n", r"config\.yaml:2:1"),
        ("lock_timeout: 5s\nlock_timeout: 6s\n", r"config\.yaml:2:1"),
        ("targets:\n  core: {migrations: a}\n  core: {migrations: b}\n", r"config\.yaml:3:3"),
    ],
)
def test_yaml_errors_give_file_line_and_column(tmp_path: Path, text: str, where: str) -> None:
    error = config_error(tmp_path, text)
    assert error.message.split(": invalid YAML: ")[0] == where.replace("\\", "")


def test_a_duplicate_key_is_an_error_not_a_silent_override(tmp_path: Path) -> None:
    error = config_error(tmp_path, "lock_timeout: 5s\nlock_timeout: 6s\n")
    assert error.message == "config.yaml:2:1: invalid YAML: duplicate key 'lock_timeout'"


def test_yaml_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    text = (
        "targets:\n  a: &base {migrations: m, dsn: 'postgresql://x/a'}\n"
        "  b:\n    <<: *base\n    dsn: postgresql://x/b\n"
    )
    config = load_text(tmp_path, text)
    assert config.target("b").dsn == "postgresql://x/b"
    assert config.target("b").migrations == tmp_path / "m"


def test_a_non_utf8_config_names_the_byte_offset(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_bytes(b"migrations: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"^config\.yaml: not valid UTF-8 at byte offset 15$"):
        load_config(tmp_path / "config.yaml", {}, tmp_path)


# --- passwords never echoed -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"dsn: postgresql://u:{SECRET}@h/db\n  bad: [\n",
        f"dsn: [postgresql://u:{SECRET}@h/db]\n",
        f"dsn: postgresql://u:{SECRET}@h/${{MISSING}}\n",
        f"dsn: postgresql://u:{SECRET}@h/db\nlock_timeout: nope\n",
        f"dsn: 'postgresql://u:{SECRET}@h/db\n",
        f"targets:\n  a:\n    dsn: postgresql://u:{SECRET}@h/db\n    migration: m\n",
    ],
)
def test_config_errors_never_echo_a_dsn_password(tmp_path: Path, text: str) -> None:
    error = config_error(tmp_path, text)
    assert SECRET not in f"{error.message} {error.hint}"


def test_a_target_repr_hides_the_dsn_and_masked_dsn_shows_it_safely(tmp_path: Path) -> None:
    target = load_text(tmp_path, f"dsn: postgresql://u:{SECRET}@h/db\n").target(None)
    assert SECRET not in repr(target)
    assert target.masked_dsn == "postgresql://u:***@h/db"


# --- picking a target -------------------------------------------------------------------------


def test_target_by_name_and_default(tmp_path: Path) -> None:
    text = "targets:\n  core: {migrations: c}\n  iam: {migrations: i}\ndefault_target: iam\n"
    config = load_text(tmp_path, text)
    assert config.target(None).name == "iam"
    assert config.target("core").name == "core"


def test_an_unknown_target_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_text(tmp_path, "targets:\n  core: {migrations: c}\n  iam: {migrations: i}\n")
    with pytest.raises(ConfigError) as caught:
        config.target("iamm")
    assert (
        caught.value.message
        == "unknown target 'iamm'; did you mean 'iam'?; known targets: core, iam"
    )


# --- finding the file -------------------------------------------------------------------------


def test_find_config_prefers_the_explicit_path_then_the_env_then_cwd(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml", "config.yaml"):
        (tmp_path / name).write_text("")
    env = {"SQLMIG_CONFIG": "b.yaml"}
    assert find_config_path("a.yaml", env, tmp_path) == tmp_path / "a.yaml"
    assert find_config_path(None, env, tmp_path) == tmp_path / "b.yaml"
    assert find_config_path(None, {}, tmp_path) == tmp_path / "config.yaml"
    assert find_config_path(None, {"SQLMIG_CONFIG": ""}, tmp_path) == tmp_path / "config.yaml"


def test_find_config_returns_none_without_any_file(tmp_path: Path) -> None:
    assert find_config_path(None, {}, tmp_path) is None


@pytest.mark.parametrize(
    ("explicit", "env", "message"),
    [
        ("nope.yaml", {}, "--config: config file {tmp}/nope.yaml does not exist"),
        (
            None,
            {"SQLMIG_CONFIG": "gone.yaml"},
            "SQLMIG_CONFIG: config file {tmp}/gone.yaml does not exist",
        ),
        (".", {}, "--config: config file {tmp} is not a file"),
    ],
)
def test_a_named_config_that_does_not_exist_is_an_error(
    tmp_path: Path, explicit: str | None, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        find_config_path(explicit, env, tmp_path)
    assert caught.value.message == message.format(tmp=tmp_path)
