"""Which cxhub row each imported object became, so that a second import changes nothing."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportedObject(models.Model):
    """One object of another tool (an Opsgenie user, a PagerDuty schedule) and its cxhub row.

    The row is named by content type and primary key (text: schedules and actions
    have UUIDs, the rest integers). A row deleted by hand is made again by the
    next import, which then points this mapping at the new one.
    """

    class Source(models.TextChoices):
        OPSGENIE = "opsgenie", "Opsgenie"
        PAGERDUTY = "pagerduty", "PagerDuty"

    source = models.CharField(max_length=20, choices=Source.choices, verbose_name=_("source"))
    external_id = models.CharField(max_length=200, verbose_name=_("id in the source"))
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("content type")
    )
    object_id = models.CharField(max_length=64, verbose_name=_("object id"))
    imported_at = models.DateTimeField(auto_now_add=True, verbose_name=_("first imported at"))

    class Meta:
        verbose_name = _("imported object")
        verbose_name_plural = _("imported objects")
        constraints = [
            # An id is unique per kind of object in each source, not across kinds.
            models.UniqueConstraint(
                fields=["source", "content_type", "external_id"], name="imported_object_once"
            )
        ]

    def __str__(self):
        return f"{self.source} {self.external_id} -> {self.content_type.model} {self.object_id}"
