"""The error tree: every failure a user can cause is one of these, with an exit code and a hint.

The CLI prints ``sqlmig: error: <message>`` and ``hint: <hint>`` and exits with ``exit_code``;
anything that is not a ``SqlmigError`` is a bug and gets a traceback.
"""

from __future__ import annotations

from typing import ClassVar


class SqlmigError(Exception):
    """Base class. ``message`` says what is wrong and where; ``hint`` says what to do."""

    exit_code: ClassVar[int] = 2
    default_hint: ClassVar[str] = "run 'sqlmig --help' for usage"

    def __init__(self, message: str, hint: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.detail = detail  # extra context shown between the message and the hint

    def __str__(self) -> str:
        return self.message


class UsageError(SqlmigError):
    """Bad command line: unknown option, missing argument, conflicting flags."""

    exit_code = 2


class ConfigError(SqlmigError):
    """config.yaml is missing, malformed, or names something that does not exist."""

    exit_code = 2
    default_hint = "fix the configuration file (see the 'Configuration' section of the README)"


class MigrationFileError(SqlmigError):
    """A migration file or folder breaks a file rule (names, pairs, encoding, directives)."""

    exit_code = 2
    default_hint = "fix the file; migration files are NNN_name.up.sql / NNN_name.down.sql"


class DatabaseError(SqlmigError):
    """The database could not be reached or answered with an error."""

    exit_code = 3
    default_hint = "check that the database is running and the DSN is right"


class LockWaitTimeout(DatabaseError):
    """Another sqlmig holds the deploy lock and did not release it within --lock-wait."""

    default_hint = "wait for the other deploy to finish, or raise --lock-wait"


class SqlError(DatabaseError):
    """A migration statement failed; the message carries path:line:col and SQLSTATE."""

    default_hint = "fix the statement and run 'sqlmig up' again"


class StateError(DatabaseError):
    """History and files disagree in a way that makes running unsafe (drift, failed, partial)."""

    default_hint = "run 'sqlmig status' and 'sqlmig validate' to see what happened"


class DriftError(SqlmigError):
    """Files and history disagree (an applied file was edited, a pending one is out of order):
    a check found something, so exit 1, like ``validate``."""

    exit_code = 1
    default_hint = "run 'sqlmig validate' to see the differences"


class EmbeddedServerError(SqlmigError):
    """The private PostgreSQL server could not be created, started or stopped."""

    exit_code = 3
    default_hint = "run 'sqlmig db status' for details, or set DATABASE_URL to use your own server"
