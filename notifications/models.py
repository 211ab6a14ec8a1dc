"""Teams and their channels, customers and devices, and every delivery attempt."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.channels import CHANNEL_CHOICES


class Team(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Channel(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=20, choices=CHANNEL_CHOICES, default="console")
    target = models.CharField(
        max_length=1000,
        blank=True,
        help_text="For Apprise: the URL (slack://…, mailto://…, json://host/path). "
        "For console: a label for the log line.",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["team", "id"]

    def __str__(self):
        return f"{self.team} via {self.kind}"

    @property
    def masked_target(self) -> str:
        """Return the target with anything after the scheme hidden but its tail."""
        scheme, sep, rest = self.target.partition("://")
        if not sep:
            return self.target
        return f"{scheme}://…{rest[-4:]}" if len(rest) > 8 else f"{scheme}://…"


class Tag(models.Model):
    """A segment of customers (premium, pj, beta) that an action's audience can narrow to."""

    slug = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class Customer(models.Model):
    external_id = models.CharField(
        max_length=100, unique=True, help_text="The bank's opaque id; no CPF, CNPJ or names."
    )
    locale = models.CharField(max_length=10, default="pt-BR")
    services = models.ManyToManyField("actions.Service", related_name="customers", blank=True)
    tags = models.ManyToManyField(Tag, related_name="customers", blank=True)
    # The frequency cap's claim: an outage push may go to this customer when this is
    # older than the cap window, or belongs to the same incident (its other devices).
    last_outage_push_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_outage_incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["external_id"]

    def __str__(self):
        return self.external_id


class Device(models.Model):
    class Platform(models.TextChoices):
        ANDROID = "android", "Android"
        IOS = "ios", "iOS"
        WEB = "web", "Web"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="devices")
    platform = models.CharField(max_length=10, choices=Platform.choices)
    token = models.CharField(max_length=4096, unique=True)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["id"]

    def __str__(self):
        return f"{self.platform} …{self.token[-6:]}"


class PushSwitch(models.Model):
    """The global kill switch for customer pushes, one row, flipped in the admin.

    CXHUB_PUSH_KILL_SWITCH=true in the environment stops pushes too (for when the
    admin is not reachable).
    """

    paused = models.BooleanField(
        default=False, help_text="Stop every customer push: queued ones are cancelled."
    )
    changed_by = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "push kill switch"

    def __str__(self):
        return "Pushes paused" if self.paused else "Pushes allowed"


class Delivery(models.Model):
    """One message to one destination: a team page through a channel, or a push batch.

    `key` makes every due communication exist once: a retry, a duplicate task or a
    race inserting the same key hits the unique constraint instead of sending twice.
    """

    class Purpose(models.TextChoices):
        PUSH = "push", _("Customer push")
        ALL_CLEAR = "all_clear", _("Customer all-clear")
        PAGE = "page", _("Tier page")
        TRIAGE = "triage", _("Triage page")
        NOTICE = "notice", _("Notice to paged teams")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=200, unique=True)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    tier_level = models.PositiveSmallIntegerField(null=True, blank=True)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True)
    provider = models.CharField(max_length=20, blank=True)
    title = models.CharField(max_length=200, blank=True)
    message = models.TextField()
    recipients = models.JSONField(default=list, blank=True, help_text="Device ids of a push batch.")
    size = models.PositiveIntegerField(default=0, help_text="Devices in a push batch.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["created_at"]
        indexes = [
            # The sweep: Delivery.objects.filter(status__in=[pending, sending], due_at__lte=…).
            models.Index(
                fields=["due_at"],
                name="delivery_unfinished_due",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.key} ({self.status})"


class PushRecord(models.Model):
    """The ledger: one push to one device of one customer, kept for compliance.

    The unique (incident, device, purpose) makes each device get an incident's
    outage push and its all-clear at most once, whatever retries or races happen.
    Customer id and token tail are copied so the record survives their deletion.
    """

    class Purpose(models.TextChoices):
        OUTAGE = "outage", "Outage"
        ALL_CLEAR = "all_clear", "All-clear"

    class Status(models.TextChoices):
        PENDING = "pending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CAPPED = "capped", "Skipped: frequency cap"

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="push_records"
    )
    delivery = models.ForeignKey(
        Delivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True)
    customer_ref = models.CharField("customer external id", max_length=100)
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True)
    token_tail = models.CharField(max_length=12)
    platform = models.CharField(max_length=10)
    locale = models.CharField(max_length=10)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    message = models.TextField()
    provider = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "device", "purpose"], name="one_push_per_device_and_purpose"
            ),
        ]
        indexes = [
            # The all-clear and progress: records of an incident by purpose and status.
            models.Index(fields=["incident", "purpose", "status"], name="push_record_progress"),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} to {self.customer_ref} ({self.status})"
