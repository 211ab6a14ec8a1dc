"""Who follows the status page, what staff write on it, and every notice sent to followers."""

import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    PT_BR = "pt-br", "Português (Brasil)"
    EN = "en", "English"


class Subscriber(models.Model):
    """A person (e-mail, double opt-in) or a system (webhook, added by CX staff) told of changes.

    An e-mail subscriber exists only once confirmed: the subscribe form signs the
    request into the confirmation link, and the link writes this row. Unsubscribing
    keeps the row (the ledger refers to it) with `unsubscribed_at` set.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.EMAIL, verbose_name=_("kind")
    )
    email = models.EmailField(blank=True, verbose_name=_("e-mail"))
    url = models.URLField(
        max_length=1000,
        blank=True,
        help_text=_("Webhook: receives each notice as signed JSON (X-Cxhub-Signature)."),
        verbose_name=_("webhook URL"),
    )
    secret = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text=_("Webhook: the HMAC-SHA256 key of X-Cxhub-Signature; generated when empty."),
        verbose_name=_("signing secret"),
    )
    name = models.CharField(max_length=200, blank=True, verbose_name=_("name"))
    language = models.CharField(
        max_length=10, choices=Language.choices, default=Language.PT_BR, verbose_name=_("language")
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text=_("Times in notices are written in this zone; empty: the bank's (TIME_ZONE)."),
        verbose_name=_("time zone"),
    )
    whole_page = models.BooleanField(
        default=True,
        help_text=_("Every service on the page; otherwise only the services chosen."),
        verbose_name=_("whole page"),
    )
    services = models.ManyToManyField(
        "actions.Service",
        blank=True,
        related_name="status_subscribers",
        verbose_name=_("services"),
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    unsubscribed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("unsubscribed at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("status subscriber")
        verbose_name_plural = _("status subscribers")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=models.Q(kind="email"), name="one_subscriber_per_email"
            ),
        ]
        indexes = [
            # The fan-out: active subscribers of a kind, streamed in id order.
            models.Index(
                fields=["kind", "id"],
                name="status_subscriber_active",
                condition=models.Q(confirmed_at__isnull=False, unsubscribed_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.name or self.email or self.url

    def save(self, *args, **kwargs):
        if self.kind == self.Kind.WEBHOOK and not self.secret:
            self.secret = secrets.token_urlsafe(32)
        super().save(*args, **kwargs)

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class Stage(models.TextChoices):
    INVESTIGATING = "investigating", _("Investigating")
    IDENTIFIED = "identified", _("Identified")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", _("Resolved")


class UpdateTemplate(models.Model):
    """A ready text for a written update, kept by CX staff."""

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    stage = models.CharField(max_length=20, choices=Stage.choices, verbose_name=_("stage"))
    text_pt = models.TextField(max_length=2000, verbose_name=_("text (pt-BR)"))
    text_en = models.TextField(max_length=2000, verbose_name=_("text (en)"))

    class Meta:
        verbose_name = _("update template")
        verbose_name_plural = _("update templates")
        ordering = ["stage", "name"]

    def __str__(self):
        return self.name


class StatusUpdate(models.Model):
    """A written update on an incident, shown on the page and the feed and sent to subscribers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="status_updates",
        verbose_name=_("incident"),
    )
    stage = models.CharField(max_length=20, choices=Stage.choices, verbose_name=_("stage"))
    text_pt = models.TextField(max_length=2000, verbose_name=_("text (pt-BR)"))
    text_en = models.TextField(max_length=2000, verbose_name=_("text (en)"))
    posted_by = models.CharField(max_length=150, verbose_name=_("posted by"))
    posted_at = models.DateTimeField(verbose_name=_("posted at"))

    class Meta:
        verbose_name = _("status update")
        verbose_name_plural = _("status updates")
        ordering = ["-posted_at"]

    def __str__(self):
        return f"{self.get_stage_display()}: {self.text_en[:60]}"

    def text(self, language: str) -> str:
        return self.text_en if language == Language.EN else self.text_pt


class Notice(models.Model):
    """One message to the subscribers of the affected services, rendered once, sent once.

    `key` names what it tells (incident:<id>:visible, update:<id>,
    maintenance:<id>:reminder ...): a sweep, a signal and a retry creating the
    same notice hit the unique constraint instead of telling twice.
    """

    class Kind(models.TextChoices):
        INCIDENT_VISIBLE = "incident_visible", _("Incident shown")
        INCIDENT_REOPENED = "incident_reopened", _("Incident down again")
        INCIDENT_UPDATE = "incident_update", _("Written update")
        INCIDENT_RESOLVED = "incident_resolved", _("Incident resolved")
        MAINTENANCE_ANNOUNCED = "maint_announced", _("Maintenance announced")
        MAINTENANCE_REMINDER = "maint_reminder", _("Maintenance reminder")
        MAINTENANCE_STARTED = "maint_started", _("Maintenance started")
        MAINTENANCE_ENDED = "maint_ended", _("Maintenance ended")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        HELD = "held", _("Waits for approval")
        REJECTED = "rejected", _("Not approved")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=200, unique=True, verbose_name=_("key"))
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="status_notices",
        verbose_name=_("incident"),
    )
    update = models.ForeignKey(
        StatusUpdate,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("update"),
    )
    maintenance = models.ForeignKey(
        "incidents.MaintenanceWindow",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="status_notices",
        verbose_name=_("maintenance"),
    )
    service_ids = models.JSONField(
        default=list, help_text=_("The affected services' ids."), verbose_name=_("services")
    )
    texts = models.JSONField(
        default=dict,
        help_text=_("Subject and body per language, rendered when the notice was created."),
        verbose_name=_("texts"),
    )
    context = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("What the texts were rendered from: written again in a subscriber's zone."),
        verbose_name=_("context"),
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    audience = models.PositiveIntegerField(
        default=0, help_text=_("Subscribers when it was created."), verbose_name=_("audience")
    )
    threshold = models.PositiveIntegerField(
        default=0,
        help_text=_("Above this many, a second person approves."),
        verbose_name=_("threshold"),
    )
    requested_by = models.CharField(max_length=150, default="cxhub", verbose_name=_("requested by"))
    decided_by = models.CharField(max_length=150, blank=True, verbose_name=_("decided by"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    fanned_out_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When its deliveries were queued (once: a conditional UPDATE claims it)."),
        verbose_name=_("queued at"),
    )

    class Meta:
        verbose_name = _("status notice")
        verbose_name_plural = _("status notices")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.key})"

    def subject(self, language: str) -> str:
        return (self.texts.get(language) or self.texts.get(Language.PT_BR) or {}).get("subject", "")


class NoticeRecord(models.Model):
    """The notices' ledger: one notice to one subscriber; unique, so at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="records", verbose_name=_("notice")
    )
    delivery = models.ForeignKey(
        "notifications.Delivery",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivery"),
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="records", verbose_name=_("subscriber")
    )
    channel = models.CharField(max_length=10, verbose_name=_("channel"))
    language = models.CharField(max_length=10, verbose_name=_("language"))
    provider = models.CharField(max_length=20, verbose_name=_("provider"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("notice record")
        verbose_name_plural = _("notice records")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "subscriber"], name="one_notice_per_subscriber"
            ),
        ]
        indexes = [
            # A batch's own rows: NoticeRecord.objects.filter(delivery=…, status="pending").
            models.Index(fields=["delivery", "status"], name="notice_record_batch"),
        ]

    def __str__(self):
        return f"{self.notice_id} to {self.subscriber_id} ({self.status})"
