from django.conf import settings
from django.utils import translation

from support.models import Preference


class PreferredLanguageMiddleware:
    """Use a logged-in person's saved language unless this browser chose one itself.

    LocaleMiddleware runs before authentication and only knows the browser (the
    language cookie, Accept-Language); this runs after it, once the user is known.
    Order of precedence: the switcher's cookie, the saved preference, the browser.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
        ):
            language = (
                Preference.objects.filter(user=user).values_list("language", flat=True).first()
            )
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
