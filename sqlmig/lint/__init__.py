"""The linter: a statement model, one module per rule under ``rules/``, suppressions, a cache.

Entry points: :func:`sqlmig.lint.run.lint` (what ``sqlmig lint`` calls),
:func:`sqlmig.lint.engine.lint_source` (one file in memory), :mod:`sqlmig.lint.registry`.
"""
