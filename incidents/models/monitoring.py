"""What monitoring says besides alerts: changes (deploys) and heartbeats (it is alive)."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models.tokens import hash_token


class ChangeEvent(models.Model):
    """A deploy or configuration change of a service, shown next to its incidents."""

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    integration = models.ForeignKey(
        "incidents.Integration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("integration"),
    )
    service = models.CharField(max_length=100, verbose_name=_("service"))
    summary = models.CharField(max_length=1024, verbose_name=_("summary"))
    source = models.CharField(max_length=255, blank=True, verbose_name=_("source"))
    at = models.DateTimeField(verbose_name=_("changed at"))
    received_at = models.DateTimeField(verbose_name=_("received at"))
    links = models.JSONField(default=list, blank=True, verbose_name=_("links"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ["-at"]
        indexes = [
            # changes_near(incident): filter(service__in=..., at__range=(opened - 1 h, end)).
            models.Index(fields=["service", "at"], name="change_service_at"),
        ]

    def __str__(self):
        return f"{self.service}: {self.summary[:60]}"


class HeartbeatCheck(models.Model):
    """A dead man's switch: expect a signal at least every N minutes, else open an incident.

    The signal is a ping to /api/v1/heartbeats/<token> (cron, a batch job), or the
    integration's always-firing alert (Alertmanager's Watchdog) in its webhook.
    """

    class State(models.TextChoices):
        NEW = "new", _("Waiting for the first signal")
        UP = "up", _("Up")
        DOWN = "down", _("Silent")

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    token_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("token hash")
    )
    token_prefix = models.CharField(max_length=8, editable=False, verbose_name=_("token prefix"))
    integration = models.ForeignKey(
        "incidents.Integration",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="heartbeats",
        help_text=_("Its notifications that carry the signal alert count as signals."),
        verbose_name=_("integration"),
    )
    signal_alertname = models.CharField(
        max_length=100,
        default="Watchdog",
        blank=True,
        help_text=_(
            "Alerts of this name (labels.alertname) in the integration's notifications are "
            "the heartbeat, not triggers. Empty: any accepted notification is a signal."
        ),
        verbose_name=_("signal alert name"),
    )
    service = models.ForeignKey(
        "actions.Service",
        on_delete=models.PROTECT,
        related_name="heartbeats",
        help_text=_("The service whose monitoring goes blind when the signal stops."),
        verbose_name=_("service"),
    )
    action = models.ForeignKey(
        "actions.Action",
        on_delete=models.PROTECT,
        related_name="heartbeats",
        help_text=_("The action whose incident opens (and pages its team) when silent."),
        verbose_name=_("action"),
    )
    expected_minutes = models.PositiveIntegerField(
        default=5,
        help_text=_("A signal is expected at least this often."),
        verbose_name=_("expected every (minutes)"),
    )
    grace_minutes = models.PositiveIntegerField(
        default=5,
        help_text=_("How late a signal may be before the check goes silent."),
        verbose_name=_("grace (minutes)"),
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    state = models.CharField(
        max_length=10,
        choices=State.choices,
        default=State.NEW,
        editable=False,
        verbose_name=_("state"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_seen_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last seen at")
    )
    down_since = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("silent since")
    )

    class Meta:
        verbose_name = _("heartbeat check")
        verbose_name_plural = _("heartbeat checks")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def set_new_token(self, token: str | None = None) -> str:
        """Give the check a new ping token (random unless given) and return it."""
        token = token or secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        self.token_prefix = token[:6]
        return token


def heartbeat_url() -> str:
    """Return the ping URL of heartbeat checks, without the token."""
    return f"{settings.CXHUB_BASE_URL}/api/v1/heartbeats/"
