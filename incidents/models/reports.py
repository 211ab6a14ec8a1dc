"""Reports and triggers received from monitoring, and the alerts of stateful senders."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from cxhub.timefmt import local_label
from incidents.models.integrations import Integration


class ReceivedQuerySet(models.QuerySet):
    """Reports or triggers: on PostgreSQL both are partitioned by day on `received_at`."""

    def received_within(self, times):
        """Narrow to the span of `times` (datetimes), where rows known by id were received.

        Exact: a caller passes the received_at of every row it means. A query by id
        alone makes PostgreSQL plan every daily partition (about 370 for a year: 30 ms
        to over a second a statement, measured on a seeded year); with the span given as
        values, the planner keeps only that span's partitions.
        """
        times = [at for at in times if at is not None]
        if not times:
            return self
        return self.filter(received_at__gte=min(times), received_at__lte=max(times))


class Report(models.Model):
    """One accepted request from monitoring: its triggers count as one occurrence per action."""

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    integration = models.ForeignKey(
        Integration,
        on_delete=models.SET_NULL,
        null=True,
        related_name="reports",
        verbose_name=_("integration"),
    )
    received_at = models.DateTimeField(verbose_name=_("received at"))
    payload = models.JSONField(verbose_name=_("payload"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    ordered = models.BooleanField(
        default=False,
        help_text=_(
            "Sent by a stateful sender (alerts that fire, then resolve): counted in the order "
            "received, one integration at a time."
        ),
        verbose_name=_("ordered"),
    )

    objects = ReceivedQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-received_at"]
        indexes = [
            # The sweep: Report.objects.filter(processed_at=None, received_at__lte=…).
            models.Index(
                fields=["received_at"],
                name="report_unprocessed",
                condition=models.Q(processed_at__isnull=True),
            ),
            # Retention (reports older than N days, a slice at a time) and the admin's
            # report list, newest first.
            models.Index(fields=["received_at"], name="report_received"),
        ]

    def __str__(self):
        return f"report {self.id} at {local_label(self.received_at)}"


class Trigger(models.Model):
    class Status(models.TextChoices):
        FIRING = "firing", _("Firing")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    # No database constraint: on PostgreSQL reports are partitioned by day, and a
    # foreign key into a partitioned table must name its whole key (id, received_at).
    # A trigger lives in its report's day and goes with it (incidents.counting.partitions);
    # Django still cascades a report's deletion to its triggers.
    report = models.ForeignKey(
        Report,
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="triggers",
        verbose_name=_("report"),
    )
    service = models.CharField(max_length=100, verbose_name=_("service"))
    code = models.CharField(max_length=64, verbose_name=_("code"))
    status = models.CharField(
        max_length=15, choices=Status.choices, default=Status.FIRING, verbose_name=_("status")
    )
    fingerprint = models.CharField(
        max_length=255,
        blank=True,
        help_text=_(
            "The sender's alert identity (Alertmanager fingerprint, PagerDuty dedup_key); "
            "empty for cxhub JSON, where each request is one occurrence."
        ),
        verbose_name=_("fingerprint"),
    )
    starts_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the sender says the alert started (startsAt)."),
        verbose_name=_("starts at"),
    )
    summary = models.CharField(max_length=500, blank=True, verbose_name=_("summary"))
    # Always its report's received_at (report_ingest writes both): an incident's reports
    # are read newest first through its triggers (incidents.selectors.IncidentReports).
    received_at = models.DateTimeField(verbose_name=_("received at"))
    matched = models.BooleanField(
        help_text=_("An action covered it when it arrived."), verbose_name=_("matched")
    )
    incident = models.ForeignKey(
        "Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="triggers",
        verbose_name=_("incident"),
    )
    reprocessed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When triage re-processed this unmatched trigger (at most once)."),
        verbose_name=_("reprocessed at"),
    )

    objects = ReceivedQuerySet.as_manager()

    class Meta:
        verbose_name = _("trigger")
        verbose_name_plural = _("triggers")
        ordering = ["-received_at", "-id"]
        indexes = [
            # Recent triggers of one service/code (triage, support search).
            models.Index(fields=["service", "code", "received_at"], name="trigger_service_code"),
            # An incident's reports newest first, read from the index alone
            # (incidents.selectors.IncidentReports: the API, the admin, the support page).
            models.Index(
                fields=["incident", "-received_at", "-report"], name="trigger_incident_reports"
            ),
            # The admin's trigger list in the model's order, a page at a time.
            models.Index(fields=["-received_at", "-id"], name="trigger_admin_order"),
        ]

    def __str__(self):
        return f"{self.service}/{self.code}"


class AlertInstance(models.Model):
    """One distinct alert of a stateful sender: an occurrence when first seen, never again.

    Alertmanager re-sends an alert (same fingerprint and startsAt) on every group
    interval and retries on errors; the unique constraints make a re-sent alert
    fail to insert, so it cannot be counted twice even when two reports carrying it
    are processed at the same moment.
    """

    class Status(models.TextChoices):
        FIRING = "firing", _("Firing")
        RESOLVED = "resolved", _("Resolved")

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("integration")
    )
    fingerprint = models.CharField(max_length=255, verbose_name=_("fingerprint"))
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.FIRING, verbose_name=_("status")
    )
    service = models.CharField(max_length=100, verbose_name=_("service"))
    code = models.CharField(max_length=64, verbose_name=_("code"))
    summary = models.CharField(max_length=500, blank=True, verbose_name=_("summary"))
    first_seen_at = models.DateTimeField(verbose_name=_("first seen at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    incidents = models.ManyToManyField(
        "Incident", blank=True, related_name="alerts", verbose_name=_("incidents")
    )

    class Meta:
        verbose_name = _("alert instance")
        verbose_name_plural = _("alert instances")
        ordering = ["-first_seen_at"]
        constraints = [
            # Alertmanager and Grafana: one row per alert episode (fingerprint + startsAt).
            models.UniqueConstraint(
                fields=["integration", "fingerprint", "starts_at"], name="one_alert_per_start"
            ),
            # PagerDuty and generic JSON: one firing alert per dedup key; a trigger for a
            # key that is already firing is a duplicate, as in PagerDuty.
            models.UniqueConstraint(
                fields=["integration", "fingerprint"],
                condition=models.Q(status="firing"),
                name="one_firing_alert_per_key",
            ),
        ]

    def __str__(self):
        return f"{self.service}/{self.code} [{self.fingerprint}] {self.status}"
