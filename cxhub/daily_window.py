"""A daily window such as quiet hours ("22:00-08:00"), read from a setting.

Pure: settings.py parses CXHUB_QUIET_HOURS with it at startup.
"""

import re
from datetime import time

WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def parse_window(text: str) -> tuple[time, time] | None:
    """Return (start, end) of "HH:MM-HH:MM", None for "" (no quiet hours); ValueError if bad."""
    if not text:
        return None
    match = WINDOW.match(text.strip())
    if not match:
        raise ValueError(f"Quiet hours: give HH:MM-HH:MM, e.g. 22:00-08:00, not {text!r}.")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if (h1, m1) == (h2, m2):
        raise ValueError("Quiet hours: the start and the end must differ.")
    return time(h1, m1), time(h2, m2)
