"""Triage: service/code pairs no action covers, and the digest page that announces them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TriageAlert(models.Model):
    """A service/code that no action covers; the triage team is paged at most once an interval."""

    service = models.CharField(max_length=100, verbose_name=_("service"))
    code = models.CharField(max_length=64, verbose_name=_("code"))
    first_seen_at = models.DateTimeField(verbose_name=_("first seen at"))
    last_seen_at = models.DateTimeField(verbose_name=_("last seen at"))
    occurrences = models.PositiveIntegerField(default=0, verbose_name=_("occurrences"))
    last_paged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last paged at"))
    pages = models.PositiveIntegerField(default=0, verbose_name=_("pages"))
    page_pending = models.BooleanField(
        default=False,
        help_text=_("Due in the triage team's next digest page."),
        verbose_name=_("page pending"),
    )

    class Meta:
        verbose_name = _("triage alert")
        verbose_name_plural = _("triage alerts")
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="one_triage_alert_per_code"),
        ]

    def __str__(self):
        return f"{self.service}/{self.code} (uncovered)"


class TriageDigest(models.Model):
    """When the triage team's last digest page went out: at most one per interval."""

    team_slug = models.SlugField(max_length=100, unique=True, verbose_name=_("team"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    number = models.PositiveIntegerField(default=0, verbose_name=_("number"))

    class Meta:
        verbose_name = _("triage digest")
        verbose_name_plural = _("triage digests")

    def __str__(self):
        return f"{self.team_slug} #{self.number}"
