"""One module per lint rule, named ``<id>_<slug>.py``; the registry finds them by name.

See ``tests/lint/cases/README.md`` for how to write one.
"""
