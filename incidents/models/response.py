"""What responders set around an incident: maintenance windows and mass-push approvals."""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class MaintenanceWindow(models.Model):
    """Planned work on a service or an action: triggers count, but nothing goes out."""

    service = models.ForeignKey(
        "actions.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_windows",
        help_text=_("Hold every action that covers this service; or give an action instead."),
        verbose_name=_("service"),
    )
    action = models.ForeignKey(
        "actions.Action",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_windows",
        help_text=_("Hold only this action."),
        verbose_name=_("action"),
    )
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(verbose_name=_("ends at"))
    reason = models.CharField(max_length=300, verbose_name=_("reason"))
    created_by = models.CharField(
        max_length=150, blank=True, editable=False, verbose_name=_("created by")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    ended_early_by = models.CharField(
        max_length=150, blank=True, editable=False, verbose_name=_("ended early by")
    )
    status_visible = models.BooleanField(
        default=False,
        help_text=_(
            "Show it on the status page and in the Open Finance outages ahead of time "
            "(customer-facing services only)."
        ),
        verbose_name=_("on the status page"),
    )
    recurrence = models.ForeignKey(
        "RecurringMaintenance",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="windows",
        help_text=_("The recurring maintenance this window is an occurrence of."),
        verbose_name=_("recurrence"),
    )

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(service__isnull=False) & models.Q(action__isnull=True))
                | (models.Q(service__isnull=True) & models.Q(action__isnull=False)),
                name="maintenance_covers_service_or_action",
                violation_error_message=_("Give either a service or an action."),
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="maintenance_ends_after_start",
                violation_error_message=_("The window must end after it starts."),
            ),
            # Writing a recurrence's occurrences twice (two beat runs) adds nothing.
            models.UniqueConstraint(
                fields=["recurrence", "starts_at"], name="one_window_per_occurrence"
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
        # "Either a service or an action" is the constraint's own message.
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The window must end after it starts.")})


class PushApproval(models.Model):
    """A mass outage push held for a second person's decision (four-eyes).

    One per incident. The push's ledger rows reference their incident, and so this
    row: who approved it, and when. The decision is a conditional UPDATE on a
    pending row, so two people deciding at once cannot both win.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")
        SENT_ON_TIMEOUT = "timeout_sent", _("Sent: nobody decided in time")
        CANCELLED_ON_TIMEOUT = "timeout_cancelled", _("Cancelled: nobody decided in time")
        RESOLVED = "resolved", _("Dropped: the incident resolved first")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="push_approval",
        verbose_name=_("incident"),
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    customers = models.PositiveIntegerField(verbose_name=_("audience customers"))
    devices = models.PositiveIntegerField(verbose_name=_("audience devices"))
    threshold = models.PositiveIntegerField(verbose_name=_("threshold"))
    set_up_by = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Who set the action up or tested it: they cannot approve alone."),
        verbose_name=_("set up by"),
    )
    requested_at = models.DateTimeField(verbose_name=_("requested at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decide by"))
    decided_by = models.CharField(max_length=150, blank=True, verbose_name=_("decided by"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))

    class Meta:
        verbose_name = _("push approval")
        verbose_name_plural = _("push approvals")
        ordering = ["-requested_at"]
        permissions = [("decide_pushapproval", _("Can approve or reject a mass push"))]
        indexes = [
            # The sweep: PushApproval.objects.filter(status=pending, expires_at__lte=now).
            models.Index(
                fields=["expires_at"],
                name="push_approval_pending_expiry",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.incident} ({self.get_status_display()})"


# Change events and heartbeat checks live in their own module (one idea each).
