from django.apps import AppConfig
from django.core import checks


class CxhubConfig(AppConfig):
    """The foundation's own startup checks (settings, urls and shared helpers need no app)."""

    name = "cxhub"
    verbose_name = "cxhub"

    def ready(self):
        from cxhub import deploy_checks  # noqa: F401 (registers the deployment checks)
        from cxhub.checks import base_url_warnings

        checks.register(base_url_warnings, checks.Tags.compatibility)
