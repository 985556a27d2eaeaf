"""Page texts in Dutch (the default) and English: ``?lang=en`` or the browser's preference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "on_duty": "Van wacht",
        "from_date": "Vanaf",
        "show": "Toon",
        "period": "Van {first} tot en met {last}.",
        "start": "Begin",
        "end": "Einde",
        "duty": "Dienst",
        "doctor": "Arts",
        "now": "nu",
        "no_duties": "Geen diensten in deze periode.",
        "not_found": "Niet gevonden.",
        "bad_date": "'{value}' is geen datum; gebruik JJJJ-MM-DD.",
    },
    "en": {
        "on_duty": "On duty",
        "from_date": "From",
        "show": "Show",
        "period": "From {first} to {last}.",
        "start": "Start",
        "end": "End",
        "duty": "Duty",
        "doctor": "Doctor",
        "now": "now",
        "no_duties": "No duties in this period.",
        "not_found": "Not found.",
        "bad_date": "'{value}' is not a date; use YYYY-MM-DD.",
    },
}
LANGUAGES = tuple(TEXTS)


def pick_language(query: str | None, accept_language: str | None) -> str:
    """Return ``nl`` or ``en``: an explicit ``?lang=`` first, then Accept-Language, then Dutch."""
    if query in TEXTS:
        return query
    for part in (accept_language or "").split(","):
        code = part.split(";", 1)[0].strip().lower()[:2]
        if code in TEXTS:
            return code
    return "nl"


def translator(language: str) -> Callable[..., str]:
    """Return ``t(key, **values)`` for a language (falling back to Dutch, then the key)."""
    texts = TEXTS.get(language, TEXTS["nl"])

    def t(key: str, **values: Any) -> str:
        text = texts.get(key) or TEXTS["nl"].get(key) or key
        return text.format(**values) if values else text

    return t
