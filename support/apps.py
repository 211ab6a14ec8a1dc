from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")

    def ready(self):
        from support.roles import groups_ensure

        # Sent for this app after every app before it in INSTALLED_APPS has had its
        # permissions created, so "support" must stay last there.
        post_migrate.connect(groups_ensure, sender=self, dispatch_uid="support.groups_ensure")
