"""Conditional GET and HEAD per RFC 9110 §13: If-None-Match, then If-Modified-Since."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime


def _opaque(tag: str) -> str:
    """Return an entity tag without its weak marker (If-None-Match compares weakly)."""
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(header: str, etag: str) -> bool:
    """Return whether an If-None-Match value (a list, weak tags or ``*``) matches ``etag``."""
    if header.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(part) == wanted for part in header.split(",") if part.strip())


def not_modified(
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    last_modified: datetime,
) -> bool:
    """Return whether a GET/HEAD should answer 304.

    If-None-Match wins when present (§13.1.2: If-Modified-Since is then ignored); an
    unparseable If-Modified-Since is ignored (§13.1.3).
    """
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since
