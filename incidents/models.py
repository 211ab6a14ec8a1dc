"""Integrations, reports and triggers received, incidents and their timelines."""

import hashlib
import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def hash_token(token: str) -> str:
    """Return the stored form of an integration token.

    Tokens are 256 random bits, so a plain SHA-256 is enough: there is nothing to
    brute-force that a slow password hash would protect.
    """
    return hashlib.sha256(token.encode()).hexdigest()


class Integration(models.Model):
    """A monitoring sender with its own token, kind (payload language) and field mapping."""

    class Kind(models.TextChoices):
        CXHUB = "cxhub", "cxhub JSON (gatilhos / triggers)"
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager webhook"
        GRAFANA = "grafana", "Grafana Alerting webhook"
        PAGERDUTY = "pagerduty", "PagerDuty Events API v2"
        GENERIC = "generic", "Generic JSON (mapped by dotted paths)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CXHUB)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=8, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_received_at = models.DateTimeField(null=True, blank=True, editable=False)
    trigger_count = models.PositiveBigIntegerField(default=0, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text="Overrides of the kind's default field paths, e.g. "
        '{"service": "labels.job", "code": "labels.code"}. Empty uses the defaults.',
    )
    rate_limit = models.PositiveIntegerField(
        default=600, help_text="Requests accepted per minute; 0 means no limit."
    )
    rate_window = models.DateTimeField(null=True, blank=True, editable=False)
    rate_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from incidents.inbound import mapping_errors

        if errors := mapping_errors(self.kind, self.mapping):
            raise ValidationError({"mapping": errors})

    def set_new_token(self, token: str | None = None) -> str:
        """Give the integration a new token (random unless given) and return it."""
        token = token or secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        self.token_prefix = token[:6]
        return token


class Report(models.Model):
    """One accepted request from monitoring: its triggers count as one occurrence per action."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integration = models.ForeignKey(
        Integration, on_delete=models.SET_NULL, null=True, related_name="reports"
    )
    received_at = models.DateTimeField()
    payload = models.JSONField()
    processed_at = models.DateTimeField(null=True, blank=True)

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
        return f"report {self.id} at {self.received_at:%Y-%m-%d %H:%M:%S}"


class Trigger(models.Model):
    class Status(models.TextChoices):
        FIRING = "firing", _("Firing")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="triggers")
    service = models.CharField(max_length=100)
    code = models.CharField(max_length=64)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.FIRING)
    fingerprint = models.CharField(
        max_length=255,
        blank=True,
        help_text="The sender's alert identity (Alertmanager fingerprint, PagerDuty dedup_key); "
        "empty for cxhub JSON, where each request is one occurrence.",
    )
    starts_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sender says the alert started (startsAt)."
    )
    summary = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField()
    matched = models.BooleanField(help_text="An action covered it when it arrived.")
    incident = models.ForeignKey(
        "Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="triggers"
    )
    reprocessed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When triage re-processed this unmatched trigger (at most once).",
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
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=255)
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FIRING)
    service = models.CharField(max_length=100)
    code = models.CharField(max_length=64)
    summary = models.CharField(max_length=500, blank=True)
    first_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    incidents = models.ManyToManyField("Incident", blank=True, related_name="alerts")

    class Meta:
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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    action = models.ForeignKey("actions.Action", on_delete=models.PROTECT, related_name="incidents")
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    occurrences = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField()
    last_occurrence_at = models.DateTimeField()
    policy = models.JSONField(
        help_text="The action's push threshold and tiers, frozen when the incident opened."
    )
    escalation_level = models.PositiveSmallIntegerField(
        default=0, help_text="Highest tier paged so far (lower tiers are always paged first)."
    )
    push_queued_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When something time-based (a tier, a repeat, the quiet period, a timeout, "
        "the end of a silence or maintenance) next falls due.",
    )
    escalation_from = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Time tiers count from here when set (the end of a maintenance window that "
        "held the incident); otherwise from the opening.",
    )
    last_paged_at = models.DateTimeField(null=True, blank=True)
    repeats = models.PositiveIntegerField(
        default=0, help_text="Repeat pages of the highest tier sent so far."
    )
    silenced_until = models.DateTimeField(
        null=True, blank=True, help_text="No pages until then; occurrences still count."
    )
    silenced_by = models.CharField(max_length=150, blank=True)
    maintenance = models.ForeignKey(
        "MaintenanceWindow",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        help_text="The maintenance window that held this incident (kept as a mark).",
    )
    maintenance_until = models.DateTimeField(
        null=True, blank=True, help_text="Held by maintenance (no push, no page) until then."
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True)

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
        return f"{self.action.code} since {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_resolved(self) -> bool:
        return self.status == self.Status.RESOLVED


class TimelineEvent(models.Model):
    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        OCCURRENCE = "occurrence", _("Occurrence milestone")
        PUSH_QUEUED = "push_queued", _("Push queued")
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

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.CharField(max_length=150, default="cxhub")
    detail = models.TextField(blank=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.at:%H:%M:%S} {self.get_kind_display()}"


class TriageAlert(models.Model):
    """A service/code that no action covers; the triage team is paged at most once an interval."""

    service = models.CharField(max_length=100)
    code = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=0)
    last_paged_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("triage alert")
        verbose_name_plural = _("triage alerts")
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="one_triage_alert_per_code"),
        ]

    def __str__(self):
        return f"{self.service}/{self.code} (uncovered)"


class MaintenanceWindow(models.Model):
    """Planned work on a service or an action: triggers count, but nothing goes out."""

    service = models.ForeignKey(
        "actions.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_windows",
        help_text="Hold every action that covers this service; or give an action instead.",
    )
    action = models.ForeignKey(
        "actions.Action",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_windows",
        help_text="Hold only this action.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    created_by = models.CharField(max_length=150, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_early_by = models.CharField(max_length=150, blank=True, editable=False)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(service__isnull=False) & models.Q(action__isnull=True))
                | (models.Q(service__isnull=True) & models.Q(action__isnull=False)),
                name="maintenance_covers_service_or_action",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="maintenance_ends_after_start",
            ),
        ]
        indexes = [
            # Evaluation: windows with ends_at > now and starts_at <= now for one action.
            models.Index(fields=["ends_at", "starts_at"], name="maintenance_active"),
        ]

    def __str__(self):
        target = self.action or self.service
        return f"{target}: {self.reason}"

    def clean(self):
        if bool(self.service_id) == bool(self.action_id):
            raise ValidationError("Give either a service or an action.")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The window must end after it starts."})
