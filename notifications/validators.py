"""Checks of a customer's registry fields: time zone, phone number; the locale's time zone."""

import re
import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


@cache
def _time_zones() -> frozenset:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: str) -> bool:
    """Return whether `name` is an IANA time zone this machine knows (America/Sao_Paulo)."""
    return name in _time_zones()


def validate_time_zone(value: str) -> None:
    if value and not is_time_zone(value):
        raise ValidationError(
            _("Unknown time zone %(value)s: give an IANA name such as America/Sao_Paulo."),
            params={"value": value},
        )


def validate_phone(value: str) -> None:
    if value and not E164.match(value):
        raise ValidationError(_("Give the number in E.164 form: +5511999990000."))


def time_zone_for(locale: str) -> str:
    """Return the default time zone of a locale: exact, then its language, then TIME_ZONE.

    CXHUB_TIME_ZONE_BY_LOCALE maps locales to zones (pt-BR=America/Sao_Paulo,...).
    """
    zones = {key.lower(): value for key, value in settings.CXHUB_TIME_ZONE_BY_LOCALE.items()}
    locale = (locale or "").lower()
    return zones.get(locale) or zones.get(locale.split("-")[0]) or settings.TIME_ZONE
