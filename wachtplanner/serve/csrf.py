"""CSRF protection for every form: a token bound to who is asking, checked on every POST.

GP pages have no session (the secret link is the credential), so a GP's form token is an HMAC
of the link's hash; coordinator forms carry an HMAC of the session's random id. A POST without
the right token is refused with 403 before anything is read or written.
"""

from __future__ import annotations

import hashlib
import hmac


def form_token(secret: str, scope: str, subject: str) -> str:
    """Return the form token of a scope (``gp``, ``coordinator``) and subject."""
    message = f"{scope}:{subject}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def valid(secret: str, scope: str, subject: str, offered: str | None) -> bool:
    """Return whether a submitted token is the one for this scope and subject."""
    if not offered:
        return False
    return hmac.compare_digest(form_token(secret, scope, subject), offered)
