import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

from notifications.validators import is_time_zone
from support.models import Preference

# Set by static/support/timezone.js from the browser (Intl): the reader's own zone.
TIME_ZONE_COOKIE = "cxhub_tz"


class PreferenceMiddleware:
    """Use a person's saved language and time zone, else what this browser says.

    LocaleMiddleware runs before authentication and only knows the browser (the
    language cookie, Accept-Language); this runs after it, once the user is known.
    Language: the switcher's cookie, the saved preference, the browser. Time zone:
    the saved preference, the browser's (a cookie set by timezone.js), TIME_ZONE.
    Every time on a page is then in that zone, with its offset.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language, zone = "", ""
        if user is not None and user.is_authenticated:
            language, zone = Preference.objects.filter(user=user).values_list(
                "language", "time_zone"
            ).first() or ("", "")
        if language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        request.time_zone_saved = bool(zone)
        zone = zone or request.COOKIES.get(TIME_ZONE_COOKIE, "")
        if zone and is_time_zone(zone):
            timezone.activate(zoneinfo.ZoneInfo(zone))
        else:
            timezone.deactivate()
        return self.get_response(request)
