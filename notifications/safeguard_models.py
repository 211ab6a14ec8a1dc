"""Models of the push safeguards: four-eyes approvals and per-provider send rates."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PushApproval(models.Model):
    """An outage push to a large audience, waiting for a second person's decision.

    One per incident (a repeated request finds it); the decision is a conditional
    UPDATE from pending, so two approvers clicking at once decide once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        TIMED_OUT_SENT = "timed_out_sent", _("Sent at the timeout")
        TIMED_OUT_CANCELLED = "timed_out_cancelled", _("Cancelled at the timeout")
        CANCELLED = "cancelled", _("Cancelled: the incident resolved first")

    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="push_approval",
        verbose_name=_("incident"),
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    customers = models.PositiveIntegerField(
        help_text=_("Audience size when asked."), verbose_name=_("customers")
    )
    devices = models.PositiveIntegerField(verbose_name=_("devices"))
    threshold = models.PositiveIntegerField(verbose_name=_("threshold"))
    requested_at = models.DateTimeField(verbose_name=_("requested at"))
    timeout_at = models.DateTimeField(null=True, blank=True, verbose_name=_("timeout at"))
    timeout_sends = models.BooleanField(default=False, verbose_name=_("send at the timeout"))
    decided_by = models.CharField(max_length=150, blank=True, verbose_name=_("decided by"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))

    class Meta:
        verbose_name = _("push approval")
        verbose_name_plural = _("push approvals")
        ordering = ["-requested_at"]
        indexes = [
            # The timeout sweep: PushApproval.objects.filter(status=pending, timeout_at__lte=now).
            models.Index(
                fields=["timeout_at"],
                name="push_approval_timeout",
                condition=models.Q(status="pending", timeout_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.incident_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class SendRate(models.Model):
    """A provider's send schedule for its rate limit (see notifications.throttle).

    Used when no Redis holds the schedule: every worker moves `tat` forward with a
    conditional UPDATE, so the limit holds across processes.
    """

    provider = models.CharField(max_length=20, unique=True, verbose_name=_("provider"))
    tat = models.DateTimeField(
        help_text=_("When the messages already allowed will have gone out at the limit's pace."),
        verbose_name=_("schedule"),
    )

    class Meta:
        verbose_name = _("send rate")
        verbose_name_plural = _("send rates")

    def __str__(self):
        return self.provider
