from django.apps import AppConfig
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _


def count_failed_login(sender, credentials, request=None, **kwargs):
    """Count a failed password (admin login) against the address's shared limit."""
    from cxhub.ratelimit import FailedAuthLimit

    if request is not None:
        FailedAuthLimit(request).failed()


class ApiKeysConfig(AppConfig):
    name = "apikeys"
    verbose_name = _("API keys")

    def ready(self):
        user_login_failed.connect(count_failed_login, dispatch_uid="apikeys.failed_login")
