"""Incidents and their timelines."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cxhub.timefmt import local_label


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
    # The bounds of its triggers' received_at and its number of distinct reports, kept
    # by every statement that links triggers to it (incidents.counting.bounds): the
    # trigger table is partitioned by received_at, not by incident, so the bounds name
    # the days that hold its triggers. NULL (incidents older than the columns, until
    # `manage.py incident_bounds` fills them) reads every day and counts.
    first_received_at = models.DateTimeField(
        null=True, editable=False, verbose_name=_("first trigger received at")
    )
    last_received_at = models.DateTimeField(
        null=True, editable=False, verbose_name=_("last trigger received at")
    )
    report_count = models.PositiveIntegerField(null=True, editable=False, verbose_name=_("reports"))
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
    reopens = models.PositiveSmallIntegerField(
        default=0,
        db_default=0,
        help_text=_(
            "Times it reopened in its flap window: the generation in the keys of what a "
            "reopen pages and pushes, so each reopen speaks once."
        ),
        verbose_name=_("reopens"),
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
            # The reports' period (incidents opened between two days, grouped per day) and
            # the lists newest first (support, API, admin: ORDER BY opened_at DESC LIMIT n).
            models.Index(fields=["opened_at"], name="incident_opened"),
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
        REOPEN_PAGED = "reopen_paged", _("Paged again: reopened")
        REOPEN_PUSHED = "reopen_pushed", _("Customers told: down again")
        ALERTS_TRUNCATED = "alerts_truncated", _("Alerts left out by the sender")
        ALERT_UPDATED = "alert_updated", _("Alert updated")
        ONCALL_GAP = "oncall_gap", _("Nobody on call")

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
            "language; empty for older rows and people's notes."
        ),
        verbose_name=_("parameters"),
    )

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{timezone.localtime(self.at):%H:%M:%S} {self.get_kind_display()}"
