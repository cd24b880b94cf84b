"""Read config.yaml into a frozen ``Config``; every error names the key path that is wrong.

Decisions (SPEC 4 leaves them open):

- Relative paths (``migrations``) resolve against the config file's directory, so a command
  means the same from any working directory; with no config file, against the working directory.
- ``${VAR}`` and ``${VAR:-default}`` are expanded in every string value (never in keys), with
  shell semantics: ``${VAR}`` accepts an empty value, ``${VAR:-d}`` uses ``d`` when VAR is unset
  or empty. The default cannot contain ``}``. ``$${`` writes a literal ``${``; any other ``$``
  is literal, so ``a$$b`` in a password stays ``a$$b``. A malformed ``${`` is an error.
- An empty dsn (``dsn: ${CORE_URL:-}``) counts as none: DATABASE_URL is used, then the embedded
  server. An empty DATABASE_URL counts as unset. Messages never echo a dsn value.
- Named targets need ``migrations``; the implicit ``default`` target of a minimal config uses
  ``migrations`` unless told otherwise. Target names are ``[A-Za-z0-9_-]+``.
- Whole-number settings also accept a digit string, so that ``${VAR}`` works for them. Timeouts
  take PostgreSQL units (see ``sqlmig.durations``).
- ``history_table`` is ``name`` (schema ``public``) or ``schema.name`` of unquoted lower-case
  identifiers; the name is at most 59 bytes so that ``<name>_log`` fits PostgreSQL's 63, and
  ``pg_*`` schemas (reserved by PostgreSQL) are refused.
- ``immutable_ref`` is handed to git, so it may not start with ``-`` or contain spaces.
- Duplicate YAML keys are errors (the last one would silently win). An empty file is ``{}``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Hashable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple, cast

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode

from sqlmig.dsn import mask_dsn
from sqlmig.durations import parse_duration_ms
from sqlmig.errors import ConfigError
from sqlmig.files import RULE_ID_RE, Versioning

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

Severity = Literal["error", "warning", "info"]
DsnSource = Literal["config", "DATABASE_URL", "embedded"]

CONFIG_NAME: Final = "config.yaml"
SEVERITIES: Final = ("error", "warning", "info")
VERSIONINGS: Final = ("sequence", "timestamp")

_TOP_KEYS: Final = (
    "targets",
    "default_target",
    "history_table",
    "lock_timeout",
    "lock_retries",
    "statement_timeout",
    "versioning",
    "lint",
    "immutable_ref",
    "dsn",
    "migrations",
)
_TARGET_KEYS: Final = ("dsn", "migrations")
_LINT_KEYS: Final = ("disable", "severity")
_REF_RE: Final = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")
_TARGET_NAME_RE: Final = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)
_IDENTIFIER_RE: Final = re.compile(r"[a-z_][a-z0-9_]*", re.ASCII)
_GIT_REF_RE: Final = re.compile(r"[^\s\-~^:?*\[\\][^\s~^:?*\[\\]*")
_TYPE_NAMES: Final = {bool: "true/false", int: "a number", float: "a number", str: "a string"}


class Target(NamedTuple):
    """One database and its migrations folder. ``dsn`` is None for the embedded server.

    Configuration values are NamedTuples: a dataclass costs about a millisecond to define, on
    every start."""

    name: str
    dsn: str | None  # may hold a password: kept out of the repr
    dsn_source: DsnSource
    migrations: Path

    def __repr__(self) -> str:
        return (
            f"Target(name={self.name!r}, dsn_source={self.dsn_source!r},"
            f" migrations={self.migrations!r})"
        )

    @property
    def masked_dsn(self) -> str | None:
        return mask_dsn(self.dsn) if self.dsn is not None else None


class LintConfig(NamedTuple):
    disable: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = MappingProxyType({})


class Config(NamedTuple):
    """The whole configuration; ``targets`` keeps file order (the order of --all-targets)."""

    path: Path | None
    root: Path
    targets: Mapping[str, Target]
    default_target: str
    history_schema: str = "public"
    history_name: str = "sqlmig_history"
    lock_timeout_ms: int = 5000
    lock_retries: int = 3
    statement_timeout_ms: int = 0
    versioning: Versioning = "sequence"
    lint: LintConfig = LintConfig()
    immutable_ref: str | None = None

    @property
    def history_table(self) -> str:
        return f"{self.history_schema}.{self.history_name}"

    @property
    def history_log_name(self) -> str:
        return f"{self.history_name}_log"

    def target(self, name: str | None) -> Target:
        """The named target, or the default one for None."""
        key = self.default_target if name is None else name
        if key in self.targets:
            return self.targets[key]
        raise ConfigError(
            f"unknown target {key!r}{_suggest(key, self.targets)}; "
            f"known targets: {', '.join(self.targets)}",
            hint="pass one of them to --target, or add it under 'targets' in the config",
        )


def find_config_path(explicit: str | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    """``--config``, else ``SQLMIG_CONFIG``, else ``./config.yaml`` if present, else None."""
    if explicit is not None:
        return _existing(cwd / explicit, "--config")
    if env.get("SQLMIG_CONFIG"):
        return _existing(cwd / env["SQLMIG_CONFIG"], "SQLMIG_CONFIG")
    default = cwd / CONFIG_NAME
    return default if default.is_file() else None


def _existing(path: Path, source: str) -> Path:
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise ConfigError(
            f"{source}: config file {path} {what}", hint=f"check the path given to {source}"
        )
    return path


def load_config(path: Path | None, env: Mapping[str, str], cwd: Path) -> Config:
    """Read and validate ``path``; None means no config file (defaults, DATABASE_URL)."""
    if path is None:
        dsn, source = _fallback_dsn(env)
        target = Target("default", dsn, source, cwd / "migrations")
        return Config(None, cwd, MappingProxyType({"default": target}), "default")
    path = cwd / path
    display = _display(path, cwd)
    data = _parse_yaml(path, display)
    return _Reader(env, display).config(data, path)


def _display(path: Path, cwd: Path) -> str:
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)


def _fallback_dsn(env: Mapping[str, str]) -> tuple[str | None, DsnSource]:
    url = env.get("DATABASE_URL")
    return (url, "DATABASE_URL") if url else (None, "embedded")


def _suggest(word: str, choices: Collection[str]) -> str:
    import difflib  # only for a typo in the configuration

    guess = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {guess[0]!r}?" if guess else ""


# ---------------------------------------------------------------------------------------------
# YAML


class _Loader(_BaseLoader):
    """Safe loader that refuses duplicate keys instead of keeping the last one."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[tuple[str, object]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def _parse_yaml(path: Path, display: str) -> object:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{display}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{display}: not valid UTF-8 at byte offset {exc.start}") from None
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a safe loader
    except yaml.MarkedYAMLError as exc:
        # problem/context only: str(exc) quotes the line, which may hold a password.
        mark = exc.problem_mark or exc.context_mark
        where = f"{display}:{mark.line + 1}:{mark.column + 1}" if mark else display
        what = exc.problem or exc.context or "syntax error"
        raise ConfigError(f"{where}: invalid YAML: {what}") from None
    except yaml.YAMLError:
        raise ConfigError(f"{display}: invalid YAML") from None


# ---------------------------------------------------------------------------------------------
# Validation


def _child(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return _TYPE_NAMES.get(type(value), f"a {type(value).__name__}")


class _Reader:
    """Walks the parsed YAML, expanding ``${VAR}`` and checking types key by key."""

    def __init__(self, env: Mapping[str, str], display: str) -> None:
        self.env, self.display = env, display

    def error(self, where: str, what: str, hint: str | None = None) -> ConfigError:
        hint = hint or f"fix {self.display} (see the 'Configuration' section of the README)"
        return ConfigError(f"{where or self.display}: {what}", hint)

    def config(self, data: object, path: Path) -> Config:
        top = self.mapping({} if data is None else data, "", _TOP_KEYS)
        targets = self.targets(top, path.parent)
        schema, name = self.history_table(top.get("history_table", "public.sqlmig_history"))
        return Config(
            path=path,
            root=path.parent,
            targets=MappingProxyType(targets),
            default_target=self.default_target(top.get("default_target"), targets),
            history_schema=schema,
            history_name=name,
            lock_timeout_ms=self.duration(top.get("lock_timeout", 5000), "lock_timeout"),
            lock_retries=self.whole_number(top.get("lock_retries", 3), "lock_retries"),
            statement_timeout_ms=self.duration(
                top.get("statement_timeout", 0), "statement_timeout"
            ),
            versioning=cast(
                Versioning,
                self.choice(top.get("versioning"), "versioning", VERSIONINGS, "sequence"),
            ),
            lint=self.lint(top.get("lint")),
            immutable_ref=self.git_ref(top.get("immutable_ref")),
        )

    # --- shapes ---------------------------------------------------------------------------

    def mapping(self, value: object, where: str, allowed: Collection[str]) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.error(where, f"must be a mapping, not {_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.error(where, f"key {key!r} must be a string")
            if allowed and key not in allowed:
                raise self.error(
                    where,
                    f"unknown key {key!r}{_suggest(key, allowed)}",
                    f"known keys here: {', '.join(allowed)}",
                )
        return cast("dict[str, object]", value)

    def string(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.error(where, f"must be a string, not {_kind(value)}")
        return self.expand(value, where)

    def expand(self, text: str, where: str) -> str:
        def replace(ref: re.Match[str]) -> str:
            if ref.group(0) == "$${":
                return "${"
            name, default = ref.group(1), ref.group(2)
            if name is None:
                raise self.error(
                    where,
                    "malformed ${...}: write ${VAR} or ${VAR:-default} ($${ for a literal ${)",
                )
            value = self.env.get(name)
            if default is not None:
                return value or default
            if value is None:
                raise self.error(
                    where,
                    f"environment variable {name} is not set",
                    f"set {name}, or write ${{{name}:-default}} in {self.display}",
                )
            return value

        return _REF_RE.sub(replace, text) if "$" in text else text

    def whole_number(self, value: object, where: str) -> int:
        if isinstance(value, str):
            value = self.expand(value, where)
            value = int(value) if value.isascii() and value.isdigit() else value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(where, f"must be a whole number >= 0, not {_kind(value)}")
        return value

    def duration(self, value: object, where: str) -> int:
        if isinstance(value, str):
            value = self.expand(value, where)
        if not isinstance(value, str | int):
            raise self.error(where, f"must be a duration such as 5s, not {_kind(value)}")
        return parse_duration_ms(value, where)

    def choice(
        self, value: object, where: str, choices: tuple[str, ...], default: str | None = None
    ) -> str:
        text = default if value is None else self.string(value, where)
        if text is None or text not in choices:
            raise self.error(where, f"must be one of {', '.join(choices)}")
        return text

    # --- sections -------------------------------------------------------------------------

    def targets(self, top: dict[str, object], root: Path) -> dict[str, Target]:
        if "targets" not in top:
            migrations = top.get("migrations", "migrations")
            return {"default": self.target("default", top.get("dsn"), migrations, "", root)}
        for key in ("dsn", "migrations"):
            if key in top:
                raise self.error(
                    key, "cannot be combined with 'targets'", "move it under targets.<name>"
                )
        raw = self.mapping(top["targets"], "targets", ())
        if not raw:
            raise self.error("targets", "must name at least one target")
        targets = {}
        for name, spec in raw.items():
            where = f"targets.{name}"
            if not _TARGET_NAME_RE.fullmatch(name):
                raise self.error(where, "target names may only contain A-Z, a-z, 0-9, _ and -")
            body = self.mapping(spec, where, _TARGET_KEYS)
            if "migrations" not in body:
                raise self.error(where, "needs 'migrations' (the folder of its migration files)")
            targets[name] = self.target(name, body.get("dsn"), body["migrations"], where, root)
        return targets

    def target(self, name: str, dsn: object, migrations: object, where: str, root: Path) -> Target:
        folder = self.string(migrations, _child(where, "migrations"))
        if not folder:
            raise self.error(_child(where, "migrations"), "must not be empty")
        url = None if dsn is None else self.string(dsn, _child(where, "dsn"))
        if url:
            return Target(name, url, "config", root / folder)
        fallback, source = _fallback_dsn(self.env)
        return Target(name, fallback, source, root / folder)

    def default_target(self, value: object, targets: Mapping[str, Target]) -> str:
        if value is None:
            return next(iter(targets))
        name = self.string(value, "default_target")
        if name not in targets:
            raise self.error(
                "default_target",
                f"{name!r} is not a target{_suggest(name, targets)}; "
                f"known targets: {', '.join(targets)}",
            )
        return name

    def history_table(self, value: object) -> tuple[str, str]:
        text = self.string(value, "history_table")
        schema, _, name = text.rpartition(".") if "." in text else ("public", "", text)
        valid = (
            _IDENTIFIER_RE.fullmatch(schema) is not None
            and _IDENTIFIER_RE.fullmatch(name) is not None
            and len(schema) <= 63
            and len(name) <= 59
        )
        if not valid:
            raise self.error(
                "history_table",
                f"{text!r} is not a valid table name",
                "write schema.name with a-z, 0-9 and _ (name at most 59 characters: "
                "sqlmig adds _log for the event table)",
            )
        if schema.startswith("pg_"):
            raise self.error("history_table", f"schema {schema!r} is reserved by PostgreSQL")
        return schema, name

    def lint(self, value: object) -> LintConfig:
        if value is None:
            return LintConfig()
        body = self.mapping(value, "lint", _LINT_KEYS)
        disable = body.get("disable", [])
        if not isinstance(disable, list):
            raise self.error("lint.disable", f"must be a list of rule IDs, not {_kind(disable)}")
        rules = frozenset(
            self.rule_id(rule, f"lint.disable[{i}]") for i, rule in enumerate(disable)
        )
        severity: dict[str, Severity] = {}
        for rule, level in self.mapping(body.get("severity", {}), "lint.severity", ()).items():
            where = f"lint.severity.{rule}"
            self.rule_id(rule, where)
            severity[rule] = cast(Severity, self.choice(level, where, SEVERITIES))
        return LintConfig(rules, MappingProxyType(severity))

    def rule_id(self, value: object, where: str) -> str:
        rule = self.string(value, where)
        if not RULE_ID_RE.fullmatch(rule):
            raise self.error(where, f"{rule!r} is not a rule ID like LOCK001")
        return rule

    def git_ref(self, value: object) -> str | None:
        if value is None:
            return None
        ref = self.string(value, "immutable_ref")
        if not _GIT_REF_RE.fullmatch(ref):
            raise self.error("immutable_ref", f"{ref!r} is not a git ref such as origin/main")
        return ref
