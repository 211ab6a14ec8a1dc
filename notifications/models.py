"""Teams and their channels, customers and devices, and every delivery attempt."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.channels import CHANNEL_CHOICES
from notifications.validators import time_zone_for, validate_phone, validate_time_zone


class Team(models.Model):
    slug = models.SlugField(max_length=100, unique=True, verbose_name=_("slug"))
    name = models.CharField(max_length=200, verbose_name=_("name"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Channel(models.Model):
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="channels", verbose_name=_("team")
    )
    kind = models.CharField(
        max_length=20, choices=CHANNEL_CHOICES, default="console", verbose_name=_("kind")
    )
    target = models.CharField(
        max_length=1000,
        blank=True,
        help_text=_(
            "For Apprise: the URL (slack://…, mailto://…, json://host/path). "
            "For console: a label for the log line."
        ),
        verbose_name=_("target"),
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))

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

    slug = models.SlugField(max_length=50, unique=True, verbose_name=_("slug"))

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class Customer(models.Model):
    external_id = models.CharField(
        max_length=100,
        unique=True,
        help_text=_("The bank's opaque id; no CPF, CNPJ or names."),
        verbose_name=_("external id"),
    )
    locale = models.CharField(max_length=10, default="pt-BR", verbose_name=_("locale"))
    services = models.ManyToManyField(
        "actions.Service", related_name="customers", blank=True, verbose_name=_("services")
    )
    tags = models.ManyToManyField(Tag, related_name="customers", blank=True, verbose_name=_("tags"))
    # Filled from the locale when saved empty (save(), the upserts, a data migration).
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        db_default="",
        validators=[validate_time_zone],
        help_text=_("IANA name (America/Sao_Paulo); empty: the default of the locale."),
        verbose_name=_("time zone"),
    )
    # Contacts for the fallback channels: used only while their consent flag is set.
    phone = models.CharField(
        max_length=16,
        blank=True,
        db_default="",
        validators=[validate_phone],
        help_text=_("E.164, e.g. +5511999990000."),
        verbose_name=_("phone number"),
    )
    phone_consent = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_("The customer agreed to SMS notices."),
        verbose_name=_("SMS consent"),
    )
    email = models.EmailField(blank=True, db_default="", verbose_name=_("e-mail"))
    email_consent = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_("The customer agreed to e-mail notices."),
        verbose_name=_("e-mail consent"),
    )
    opt_out_outage = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_("The customer asked not to be told of outages."),
        verbose_name=_("opted out of outage pushes"),
    )
    opt_out_all_clear = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_("The customer asked not to be told when an outage is over."),
        verbose_name=_("opted out of all-clears"),
    )
    # The frequency cap's claim: an outage push may go to this customer when this is
    # older than the cap window, or belongs to the same incident (its other devices).
    last_outage_push_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last outage push at")
    )
    last_outage_incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("last outage incident"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["external_id"]

    def __str__(self):
        return self.external_id

    def save(self, *args, **kwargs):
        if not self.time_zone:
            self.time_zone = time_zone_for(self.locale)
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        if self.phone_consent and not self.phone:
            errors["phone_consent"] = _("Consent without a phone number: give the number too.")
        if self.email_consent and not self.email:
            errors["email_consent"] = _("Consent without an e-mail: give the address too.")
        if errors:
            raise ValidationError(errors)


class Device(models.Model):
    class Platform(models.TextChoices):
        ANDROID = "android", _("Android")
        IOS = "ios", _("iOS")
        WEB = "web", _("Web")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="devices", verbose_name=_("customer")
    )
    platform = models.CharField(max_length=10, choices=Platform.choices, verbose_name=_("platform"))
    token = models.CharField(max_length=4096, unique=True, verbose_name=_("token"))
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    disabled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("disabled at"))
    disabled_reason = models.CharField(
        max_length=200, blank=True, verbose_name=_("disabled reason")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

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
        FALLBACK = "fallback", _("Customer fallback (SMS / e-mail)")
        # Sent by the status page's sender (statuspage/sending.py), registered with the engine.
        STATUS_NOTICE = "status_notice", _("Status page notice")
        STATUS_CONFIRM = "status_confirm", _("Status page subscription confirmation")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    key = models.CharField(max_length=200, unique=True, verbose_name=_("key"))
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("incident"),
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices, verbose_name=_("purpose"))
    tier_level = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("tier level")
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("team")
    )
    channel = models.ForeignKey(
        Channel, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("channel")
    )
    # A page to a person: who, and by which of their contact methods (a due time each).
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )
    contact_method = models.ForeignKey(
        "oncall.ContactMethod",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("contact method"),
    )
    provider = models.CharField(max_length=20, blank=True, verbose_name=_("provider"))
    title = models.CharField(max_length=200, blank=True, verbose_name=_("title"))
    message = models.TextField(verbose_name=_("message"))
    recipients = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Device ids of a push batch."),
        verbose_name=_("recipients"),
    )
    size = models.PositiveIntegerField(
        default=0, help_text=_("Devices in a push batch."), verbose_name=_("size")
    )
    texts = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("A push batch's text per locale ({'default': ..., 'en': ...}), ready to send."),
        verbose_name=_("texts"),
    )
    moments = models.JSONField(
        default=dict,
        blank=True,
        db_default={},
        help_text=_(
            "Moments the texts still name ({'started_at': ISO time}): each customer reads "
            "them in their own time zone, filled in when the batch is sent."
        ),
        verbose_name=_("moments"),
    )
    generation = models.PositiveSmallIntegerField(
        default=0,
        db_default=0,
        help_text=_("How many times the incident had reopened when this was queued."),
        verbose_name=_("reopen generation"),
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    quiet_hours = models.CharField(
        max_length=10,
        blank=True,
        db_default="",
        choices=[
            ("held", _("Held until the customers' morning")),
            ("critical", _("Sent in the customers' night: critical action")),
        ],
        help_text=_("A push batch of customers in their quiet hours, and what was done."),
        verbose_name=_("quiet hours"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    due_at = models.DateTimeField(verbose_name=_("due at"))
    queued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "When a send task was last published; the sweep publishes again after a lease."
        ),
        verbose_name=_("queued at"),
    )
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    claim = models.UUIDField(
        null=True,
        blank=True,
        help_text=_("The current send attempt's token: only its holder may record the outcome."),
        verbose_name=_("claim"),
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    rate_slot_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "The start of the send-rate slot this push batch reserved; it sends then "
            "without asking for another."
        ),
        verbose_name=_("send-rate slot"),
    )

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
            # The reports' pages sent per day: filter(purpose=page, status=sent, sent_at in
            # today), counted from the index alone (the table grows with every incident).
            models.Index(
                fields=["sent_at"],
                name="delivery_page_sent_day",
                condition=models.Q(purpose="page", status="sent"),
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.key} ({self.status})"


# The ledger's models live in their own module; importing them here registers them.
from notifications.ledger_models import PushRecord, PushSwitch, SendRateSchedule  # noqa: E402, F401
