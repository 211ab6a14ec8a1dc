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


class Customer(models.Model):
    external_id = models.CharField(
        max_length=100, unique=True, help_text="The bank's opaque id; no CPF, CNPJ or names."
    )
    locale = models.CharField(max_length=10, default="pt-BR")
    services = models.ManyToManyField("actions.Service", related_name="customers", blank=True)
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["id"]

    def __str__(self):
        return f"{self.platform} …{self.token[-6:]}"


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
