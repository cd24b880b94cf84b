"""Hide passwords in connection strings before they reach any output, log, error or JSON.

``mask_dsn`` handles both libpq forms. URL form (any ``scheme://``, so ``postgres://`` and
SQLAlchemy-style ``postgresql+psycopg://`` too): the userinfo ends at the LAST ``@`` before the
query string and the password starts after its FIRST ``:``, so raw ``@`` and ``:`` inside a
password (``user:p@ss:w@host``, Azure's ``user@server:pw@host``) are hidden whole;
``password=``/``sslpassword=`` query parameters are hidden too. Keyword form: the value of
``password``/``sslpassword``, quoted (``'se cret'``, with ``\\'`` escapes, even unterminated) or
not. Known limit: a raw ``?`` inside a URL password (it must be percent-encoded anyway) hides
only the query parameters, not the password before it. Empty passwords stay empty.
"""

from __future__ import annotations

import re
from typing import Final

MASK: Final = "***"

_URL_RE: Final = re.compile(r"(\s*[A-Za-z][A-Za-z0-9+.-]*://)(.*)", re.S)
_QUERY_PASSWORD_RE: Final = re.compile(r"([?&](?:ssl)?password=)[^&#]*", re.I)
# libpq skips spaces after '=', then reads a quoted value or a run of non-spaces.
_KEYWORD_PASSWORD_RE: Final = re.compile(
    r"(?<![\w.])((?:ssl)?password\s*=\s*)(?:'(?:[^'\\]|\\.?)*'?|\S+)", re.I | re.S
)


def mask_dsn(dsn: str) -> str:
    """``dsn`` with every password replaced by ``***``; everything else unchanged."""
    match = _URL_RE.fullmatch(dsn)
    if match is None:
        return _KEYWORD_PASSWORD_RE.sub(rf"\g<1>{MASK}", dsn)
    scheme, rest = match.groups()
    return scheme + _QUERY_PASSWORD_RE.sub(rf"\g<1>{MASK}", _mask_userinfo(rest))


def _mask_userinfo(rest: str) -> str:
    query = rest.find("?")
    at = rest.rfind("@", 0, query if query >= 0 else len(rest))
    colon = rest.find(":", 0, max(at, 0))
    if at < 0 or colon < 0 or colon == at - 1:
        return rest  # no userinfo, no password, or an empty one
    return f"{rest[: colon + 1]}{MASK}{rest[at:]}"
