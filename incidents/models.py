"""Integrations, reports and triggers received, incidents and their timelines."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cxhub.timefmt import local_label

# Integrations live in their own module; importable from here as before.
from incidents.integration_models import Integration, endpoint_of, ingest_kinds  # noqa: F401
from incidents.tokens import hash_token  # noqa: F401


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
        ]

    def __str__(self):
        return f"report {self.id} at {local_label(self.received_at)}"


class Trigger(models.Model):
    class Status(models.TextChoices):
        FIRING = "firing", _("Firing")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="triggers", verbose_name=_("report")
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

    class Meta:
        verbose_name = _("trigger")
        verbose_name_plural = _("triggers")
        ordering = ["-received_at", "-id"]
        indexes = [
            # Recent triggers of one service/code (triage, support search).
            models.Index(fields=["service", "code", "received_at"], name="trigger_service_code"),
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


class Incident(models.Model):
    """One episode of an action failing, from its first trigger until resolved."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    action = models.ForeignKey(
        "actions.Action",
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("action"),
    )
    status = models.CharField(
        max_length=15, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    occurrences = models.PositiveIntegerField(default=0, verbose_name=_("occurrences"))
    opened_at = models.DateTimeField(verbose_name=_("opened at"))
    last_occurrence_at = models.DateTimeField(verbose_name=_("last occurrence at"))
    policy = models.JSONField(
        help_text=_("The action's push threshold and tiers, frozen when the incident opened."),
        verbose_name=_("policy"),
    )
    escalation_level = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Highest tier paged so far (lower tiers are always paged first)."),
        verbose_name=_("escalation level"),
    )
    push_queued_at = models.DateTimeField(null=True, blank=True, verbose_name=_("push queued at"))
    next_check_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "When something time-based (a tier, a repeat, the quiet period, a timeout, "
            "the end of a silence or maintenance) next falls due."
        ),
        verbose_name=_("next check at"),
    )
    escalation_from = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "Time tiers count from here when set (the end of a maintenance window that "
            "held the incident); otherwise from the opening."
        ),
        verbose_name=_("escalation from"),
    )
    last_paged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last paged at"))
    repeats = models.PositiveIntegerField(
        default=0,
        help_text=_("Repeat pages of the highest tier sent so far."),
        verbose_name=_("repeats"),
    )
    silenced_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("No pages until then; occurrences still count."),
        verbose_name=_("silenced until"),
    )
    silenced_by = models.CharField(max_length=150, blank=True, verbose_name=_("silenced by"))
    maintenance = models.ForeignKey(
        "MaintenanceWindow",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        help_text=_("The maintenance window that held this incident (kept as a mark)."),
        verbose_name=_("maintenance"),
    )
    maintenance_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Held by maintenance (no push, no page) until then."),
        verbose_name=_("maintenance until"),
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    acknowledged_by = models.CharField(
        max_length=150, blank=True, verbose_name=_("acknowledged by")
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_by = models.CharField(max_length=150, blank=True, verbose_name=_("resolved by"))

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["action"],
                condition=~models.Q(status="resolved"),
                name="one_unresolved_incident_per_action",
            ),
        ]
        indexes = [
            # The sweep: Incident.objects.filter(next_check_at__lte=now) over unresolved ones.
            models.Index(
                fields=["next_check_at"],
                name="incident_next_check",
                condition=~models.Q(status="resolved") & models.Q(next_check_at__isnull=False),
            ),
        ]

    def __str__(self):
        return gettext("%(code)s since %(opened_at)s") % {
            "code": self.action.code,
            # The current time zone, as every field on the same page shows it.
            "opened_at": local_label(self.opened_at, "%Y-%m-%d %H:%M"),
        }

    @property
    def is_resolved(self) -> bool:
        return self.status == self.Status.RESOLVED


class TimelineEvent(models.Model):
    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        OCCURRENCE = "occurrence", _("Occurrence milestone")
        PUSH_QUEUED = "push_queued", _("Push queued")
        PUSH_HELD = "push_held", _("Push waits for approval")
        PUSH_APPROVED = "push_approved", _("Push approved")
        PUSH_REJECTED = "push_rejected", _("Push not approved")
        TIER_PAGED = "tier_paged", _("Tier paged")
        DELIVERY_SENT = "delivery_sent", _("Delivery sent")
        DELIVERY_RETRY = "delivery_retry", _("Delivery failed, will retry")
        DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")
        ALL_CLEAR_QUEUED = "all_clear_queued", _("All-clear queued")
        ALERT_FIRING = "alert_firing", _("Alert firing")
        ALERT_RESOLVED = "alert_resolved", _("Alert resolved")
        REPEAT_PAGED = "repeat_paged", _("Tier paged again")
        TEAMS_TOLD = "teams_told", _("Paged teams told")
        ACK_EXPIRED = "ack_expired", _("Acknowledgement timed out")
        SILENCED = "silenced", _("Silenced")
        SILENCE_ENDED = "silence_ended", _("Silence ended")
        MAINTENANCE = "maintenance", _("Held by maintenance")
        MAINTENANCE_ENDED = "maintenance_ended", _("Maintenance ended")
        REOPENED = "reopened", _("Reopened")
        ALERTS_TRUNCATED = "alerts_truncated", _("Alerts left out by the sender")
        ALERT_UPDATED = "alert_updated", _("Alert updated")

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="events", verbose_name=_("incident")
    )
    at = models.DateTimeField(verbose_name=_("at"))
    kind = models.CharField(max_length=30, choices=Kind.choices, verbose_name=_("kind"))
    actor = models.CharField(max_length=150, default="cxhub", verbose_name=_("actor"))
    detail = models.TextField(
        blank=True, help_text=_("In English, as written."), verbose_name=_("detail")
    )
    params = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "The detail as a message key and its values, rendered in the reader's "
            "language (incidents/timeline_text.py); empty for older rows and people's notes."
        ),
        verbose_name=_("parameters"),
    )

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{timezone.localtime(self.at):%H:%M:%S} {self.get_kind_display()}"

    @property
    def text(self) -> str:
        """Return the detail in the active language (see incidents.timeline)."""
        from incidents.timeline_text import event_text

        return event_text(self)


# Models of one idea each live in their own modules; importing them here registers them.
from incidents.maintenance_models import RecurringMaintenance  # noqa: E402, F401
from incidents.monitoring_models import ChangeEvent, HeartbeatCheck  # noqa: E402, F401
from incidents.response_models import MaintenanceWindow, PushApproval  # noqa: E402, F401
from incidents.triage_models import TriageAlert, TriageDigest  # noqa: E402, F401
