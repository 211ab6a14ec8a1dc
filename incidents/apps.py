from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Incidents")

    def ready(self):
        from incidents import tasks  # noqa: F401  (registers the tasks by name)
        from incidents.outreach import receivers

        receivers.connect()
