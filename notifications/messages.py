"""Push texts: variables filled in safely, one text per language chosen by locale.

Only `{name}` placeholders from a fixed list are replaced. `str.format` is not
used on purpose: it would let a text written in the admin reach attributes
(`{service.__class__}`) and fail on a stray brace.
"""

import re
import zoneinfo
from datetime import datetime

from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext

VARIABLES = ("service", "action", "started_at", "link")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Push services cap the payload (FCM: 4 KB); a text past this is cut, not refused.
MAX_LENGTH = 1000


class TemplateError(ValueError):
    pass


def check_template(text: str) -> None:
    """Raise TemplateError naming any placeholder that is not a known variable."""
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in VARIABLES})
    if unknown:
        raise TemplateError(
            gettext("Unknown variable(s): %(unknown)s; use %(known)s.")
            % {
                "unknown": ", ".join("{" + n + "}" for n in unknown),
                "known": ", ".join("{" + v + "}" for v in VARIABLES),
            }
        )


class PerLocale:
    """A variable whose value depends on the customer's language (a service's name)."""

    def __init__(self, default: str, by_locale: dict[str, str] | None = None):
        self.default, self.by_locale = default, by_locale or {}

    def __str__(self):
        return self.default

    def for_locale(self, locale: str, zone: str = "") -> str:
        return pick_text(self.by_locale, locale, self.default)


# How a customer of each language reads a moment in a push; others get ISO order.
PUSH_DATETIME_FORMATS = {"pt": "d/m/Y H:i", "es": "d/m/Y H:i", "en": "M j, Y, H:i"}
DEFAULT_PUSH_LOCALE = "pt-BR"  # the language of the action's own texts


def zone_offset(at: datetime) -> str:
    """Return an aware time's UTC offset as a customer reads it: UTC+09:00, UTC-03:00."""
    minutes = int(at.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class LocalTime:
    """A moment written in the customer's language (01/12 or Dec 1) and their own clock.

    With a time zone (the customer's, from the registry) the moment is shown there,
    followed by its offset, so a customer in Tokyo reads Tokyo time and knows it is:
    "Dec 3, 2026, 15:07 (UTC+09:00)". Without one, the server's zone, no offset (a
    preview in the admin).
    """

    def __init__(self, at):
        self.at = at

    def __str__(self):
        return self.for_locale("")

    def for_locale(self, locale: str, zone: str = "") -> str:
        locale = locale or DEFAULT_PUSH_LOCALE
        fmt = PUSH_DATETIME_FORMATS.get(locale.split("-")[0].lower(), "Y-m-d H:i")
        local = timezone.localtime(self.at, _zone(zone) if zone else None)
        # Month names (Dec, dez) in that language.
        with translation.override(translation.to_language(locale)):
            text = dateformat.format(local, fmt)
        return f"{text} ({zone_offset(local)})" if zone else text


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None  # the server's zone: a bad registry value never stops a push


def render(text: str, variables: dict, locale: str = "", zone: str = "") -> str:
    """Fill known placeholders with plain-text values; leave anything else as written.

    A value with `for_locale` (PerLocale, LocalTime) is written for `locale` (and a
    moment in the time zone `zone`, when given).
    """

    def fill(match):
        name = match.group(1)
        if name not in variables:
            return match.group(0)
        value = variables[name]
        return value.for_locale(locale, zone) if hasattr(value, "for_locale") else str(value)

    return PLACEHOLDER.sub(fill, text)[:MAX_LENGTH]


def pick_text(texts: dict[str, str], locale: str, default: str) -> str:
    """Return the text for `locale`: exact match, then same language, then `default`.

    `texts` maps locales (pt-BR, en) to texts; matching ignores case.
    """
    by_locale = {key.lower(): text for key, text in texts.items()}
    wanted = (locale or "").lower()
    if wanted in by_locale:
        return by_locale[wanted]
    language = wanted.split("-")[0]
    for key, text in sorted(by_locale.items()):
        if key.split("-")[0] == language:
            return text
    return default


def text_for(texts: dict, purpose: str, locale: str, variables: dict) -> str:
    """Render the text of `purpose` in the language closest to `locale`."""
    choices = dict(texts.get(purpose, {}))
    default = choices.pop("default", "")
    return render(pick_text(choices, locale, default), variables, locale)


def moments_render(text: str, moments: dict, locale: str, zone: str) -> str:
    """Fill the moments a ready text still names ({started_at}) in a customer's own clock.

    `moments` maps variable names to ISO times (`Delivery.moments`); the rest of the
    text was rendered when the batch was queued.
    """
    if not moments:
        return text
    values = {name: LocalTime(datetime.fromisoformat(at)) for name, at in moments.items()}
    return render(text, values, locale, zone)
