"""Trigger rule codes: which codes a rule may hold, and which rule codes cover a sent code."""

import re

from django.utils.translation import gettext_lazy as _

CODE_CLASS_RE = re.compile(r"^[1-9]xx$")
ANY_CODE = "*"
# A code a sender may send: 503, timeout, ECONNRESET, db.down (no spaces, no wildcard).
EXACT_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
# Looks like a class or a pattern (50x, 5x, x03, 5xxx) but is none cxhub matches.
PSEUDO_CLASS_RE = re.compile(r"^(?=.*\d)(?=.*x)[0-9x]+$", re.IGNORECASE)
RULE_CODE_HELP = _(
    "Use an exact code (503, timeout), a class of three-digit codes (5xx) or * for any code."
)


def rule_code_error(code: str) -> str | None:
    """Return why `code` is not a rule code cxhub can match, or None if it is one."""
    code = code.strip()
    if code == ANY_CODE or CODE_CLASS_RE.match(code.lower()):
        return None
    if PSEUDO_CLASS_RE.match(code) or not EXACT_CODE_RE.match(code):
        return _("“%(code)s” never matches anything. %(help)s") % {
            "code": code,
            "help": RULE_CODE_HELP,
        }
    return None


def code_keys(code: str) -> list[str]:
    """Return the rule codes that cover `code`: itself, its class (`5xx`) and any (`*`)."""
    keys = [code, ANY_CODE]
    if len(code) == 3 and code.isdigit() and code[0] != "0":
        keys.insert(1, f"{code[0]}xx")
    return keys


def covers(rules: set[tuple[str, str]], service: str, code: str) -> bool:
    """Return whether (service, rule code) `rules` cover a trigger, as matching does."""
    return any((service, key) in rules for key in code_keys(code))
