from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatuspageConfig(AppConfig):
    name = "statuspage"
    verbose_name = _("Status page")

    def ready(self):
        from notifications.deliveries import batch_sender_register
        from notifications.models import Delivery
        from statuspage import receivers, sending, tasks  # noqa: F401  (registers the tasks)

        batch_sender_register(Delivery.Purpose.STATUS_NOTICE, sending.notice_batch_send)
        batch_sender_register(Delivery.Purpose.STATUS_CONFIRM, sending.confirmation_send)
        receivers.connect()
