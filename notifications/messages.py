"""Push texts: variables filled in safely, one text per language chosen by locale.

Only `{name}` placeholders from a fixed list are replaced. `str.format` is not
used on purpose: it would let a text written in the admin reach attributes
(`{service.__class__}`) and fail on a stray brace.
"""

import re

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


def render(text: str, variables: dict) -> str:
    """Fill known placeholders with plain-text values; leave anything else as written."""

    def fill(match):
        name = match.group(1)
        return str(variables[name]) if name in variables else match.group(0)

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
    return render(pick_text(choices, locale, default), variables)
