"""Integrations, reports and triggers received, incidents and their timelines."""

import hashlib
import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def hash_token(token: str) -> str:
    """Return the stored form of an integration token.

    Tokens are 256 random bits, so a plain SHA-256 is enough: there is nothing to
    brute-force that a slow password hash would protect.
    """
    return hashlib.sha256(token.encode()).hexdigest()


class Integration(models.Model):
    """A monitoring sender with its own token."""

    class Kind(models.TextChoices):
        CXHUB = "cxhub", "cxhub JSON (gatilhos / triggers)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CXHUB)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=8, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_received_at = models.DateTimeField(null=True, blank=True, editable=False)
    trigger_count = models.PositiveBigIntegerField(default=0, editable=False)
    last_error = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["name"]

    def __str__(self):
        return self.name

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
        RESOLVED = "resolved", _("Resolved")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="triggers")
    service = models.CharField(max_length=100)
    code = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FIRING)
    received_at = models.DateTimeField()
    matched = models.BooleanField(help_text="An action covered it when it arrived.")
    incident = models.ForeignKey(
        "Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="triggers"
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
        null=True, blank=True, help_text="When a time-based tier next falls due."
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
