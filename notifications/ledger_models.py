"""The push ledger and what governs pushes: the kill switch and the send-rate schedule."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class PushSwitch(models.Model):
    """The global kill switch for customer pushes, one row, flipped in the admin.

    CXHUB_PUSH_KILL_SWITCH=true in the environment stops pushes too (for when the
    admin is not reachable).
    """

    paused = models.BooleanField(
        default=False,
        help_text=_("Stop every customer push: queued ones are cancelled."),
        verbose_name=_("paused"),
    )
    changed_by = models.CharField(max_length=150, blank=True, verbose_name=_("changed by"))
    changed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("changed at"))

    class Meta:
        verbose_name = _("push kill switch")
        verbose_name_plural = _("push kill switches")

    def __str__(self):
        return gettext("Pushes paused") if self.paused else gettext("Pushes allowed")


class SendRateSchedule(models.Model):
    """When a push provider's send-rate schedule is next free, shared by every worker.

    The database's copy of the throttle (without Redis): one row per provider,
    moved forward with a compare-and-set UPDATE.
    """

    provider = models.CharField(max_length=20, primary_key=True, verbose_name=_("provider"))
    free_at = models.DateTimeField(verbose_name=_("free at"))

    class Meta:
        verbose_name = _("send-rate schedule")
        verbose_name_plural = _("send-rate schedules")

    def __str__(self):
        return f"{self.provider}: {self.free_at:%H:%M:%S}"


class PushRecord(models.Model):
    """The ledger: one push to one device of one customer, kept for compliance.

    The unique (incident, generation, device, purpose) makes each device get an
    incident's outage push and its all-clear at most once per reopen generation
    (0 until it reopens), whatever retries or races happen.
    Customer id and token tail are copied so the record survives their deletion.
    """

    class Purpose(models.TextChoices):
        OUTAGE = "outage", _("Outage")
        ALL_CLEAR = "all_clear", _("All-clear")

    class Status(models.TextChoices):
        PENDING = "pending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CAPPED = "capped", _("Skipped: frequency cap")

    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="push_records",
        verbose_name=_("incident"),
    )
    delivery = models.ForeignKey(
        "notifications.Delivery",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="records",
        verbose_name=_("delivery"),
    )
    customer = models.ForeignKey(
        "notifications.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("customer"),
    )
    customer_ref = models.CharField(_("customer external id"), max_length=100)
    device = models.ForeignKey(
        "notifications.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("device"),
    )
    token_tail = models.CharField(max_length=12, verbose_name=_("token tail"))
    platform = models.CharField(max_length=10, verbose_name=_("platform"))
    locale = models.CharField(max_length=10, verbose_name=_("locale"))
    purpose = models.CharField(max_length=10, choices=Purpose.choices, verbose_name=_("purpose"))
    message = models.TextField(verbose_name=_("message"))
    provider = models.CharField(max_length=20, verbose_name=_("provider"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    channel = models.CharField(
        max_length=10,
        choices=[("push", _("Push")), ("sms", _("SMS")), ("email", _("E-mail"))],
        default="push",
        db_default="push",
        help_text=_("SMS or e-mail: the fallback for a customer no push reached."),
        verbose_name=_("channel"),
    )
    # Copied from the batch: "held" (sent at the customer's morning), "critical" (sent
    # in their night because the action is critical), "" (sent in their day).
    quiet_hours = models.CharField(
        max_length=10, blank=True, db_default="", verbose_name=_("quiet hours")
    )
    # Copied from the batch: 0, then 1, 2 ... for what a reopen of the incident said
    # ("down again" and the all-clear after it).
    generation = models.PositiveSmallIntegerField(
        default=0, db_default=0, verbose_name=_("reopen generation")
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("push record")
        verbose_name_plural = _("push records")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "generation", "device", "purpose"],
                name="one_push_per_device_purpose_generation",
            ),
            # A fallback has no device: it goes once per customer.
            models.UniqueConstraint(
                fields=["incident", "generation", "customer", "purpose"],
                condition=~models.Q(channel="push"),
                name="one_fallback_per_customer_purpose_gen",
            ),
        ]
        indexes = [
            # The all-clear and progress: records of an incident by purpose and status.
            models.Index(fields=["incident", "purpose", "status"], name="push_record_progress"),
            # The customer lookup and the support search by customer:
            # PushRecord.objects.filter(customer_ref=q), newest first.
            models.Index(fields=["customer_ref", "-created_at"], name="push_record_customer"),
            # The reports' sends per day: filter(status=sent, purpose=…, sent_at in a day),
            # counted from the index alone.
            models.Index(
                fields=["sent_at", "purpose"],
                name="push_record_sent_day",
                condition=models.Q(status="sent"),
            ),
            # The admin's ledger list, in the model's order (created_at, id), a page at a time.
            models.Index(fields=["created_at", "id"], name="push_record_ledger_order"),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} to {self.customer_ref} ({self.status})"
