"""People who are paged (responders and their contact methods) and who is on call when.

A schedule's final shifts are computed by `oncall.final` from its layers,
restrictions and overrides (or its iCal feed) and materialized in `Shift` for a
horizon, so "who is on call now" is one indexed query.
"""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _

from apikeys.models import hash_key
from notifications.contacts import CONTACT_CHOICES
from notifications.forms import apprise_problem
from notifications.validators import validate_phone, validate_time_zone

# Marks a calendar link's token in a config file or a secret scanner's rules.
CALENDAR_TOKEN_PREFIX = "cxcal_"  # noqa: S105 (a marker, not a secret)


class Responder(User):
    """A person as the admin shows them for paging: their contact methods and shifts."""

    class Meta:
        proxy = True
        verbose_name = _("responder")
        verbose_name_plural = _("responders")


class ContactMethod(models.Model):
    """One way to reach a person, tried in order, each after its delay.

    A page reaches a person by every enabled method, method by method: the SMS at
    0 minutes, the e-mail at 5, ... until someone acknowledges.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="contact_methods",
        verbose_name=_("person"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))
    kind = models.CharField(max_length=20, choices=CONTACT_CHOICES, verbose_name=_("kind"))
    address = models.CharField(
        max_length=1000,
        help_text=_(
            "SMS: an E.164 number (+5511999990000). E-mail: an address. "
            "Apprise: a URL (slack://…, tgram://…, mailto://…)."
        ),
        verbose_name=_("address"),
    )
    delay_minutes = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Minutes after the page starts before this method is tried."),
        verbose_name=_("delay (minutes)"),
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))

    class Meta:
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")
        ordering = ["user", "position", "delay_minutes", "id"]

    def __str__(self):
        return f"{self.user} by {self.kind} after {self.delay_minutes} min"

    @property
    def masked_address(self) -> str:
        """Return the address with all but its tail hidden (an Apprise URL holds secrets)."""
        if self.kind == "apprise":
            scheme, _sep, rest = self.address.partition("://")
            return f"{scheme}://…{rest[-4:]}" if len(rest) > 8 else f"{scheme}://…"
        return f"…{self.address[-4:]}" if len(self.address) > 4 else self.address

    def clean(self):
        address = self.address.strip()
        self.address = address
        if not address:
            raise ValidationError({"address": _("Give the number, address or URL.")})
        try:
            if self.kind == "sms":
                validate_phone(address)
            elif self.kind == "email":
                validate_email(address)
            elif self.kind == "apprise" and (problem := apprise_problem(address)):
                raise ValidationError(problem)
        except ValidationError as error:
            raise ValidationError({"address": error.messages}) from None


class Schedule(models.Model):
    """Who is on call, in one time zone: layers and overrides, or a read-only iCal feed."""

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    time_zone = models.CharField(
        max_length=64,
        default="America/Sao_Paulo",
        validators=[validate_time_zone],
        help_text=_("IANA name; handoffs and restrictions are wall-clock times in it."),
        verbose_name=_("time zone"),
    )
    team = models.ForeignKey(
        "notifications.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="schedules",
        help_text=_("The team whose channels are paged when nobody is on call."),
        verbose_name=_("team"),
    )
    layers_add_up = models.BooleanField(
        default=False,
        help_text=_(
            "On: everyone on call in any layer is on call, as in Opsgenie's rotations. "
            "Off: a higher layer replaces the ones below where it has someone, as in "
            "PagerDuty's layers."
        ),
        verbose_name=_("layers add up"),
    )
    ical_url = models.URLField(
        max_length=1000,
        blank=True,
        help_text=_(
            "Read the shifts from this iCal feed instead of layers (read-only, refreshed "
            "by the worker). Each event names its person by ATTENDEE e-mail or in its "
            "summary (username or e-mail)."
        ),
        verbose_name=_("iCal feed URL"),
    )
    ical_overrides_url = models.URLField(
        max_length=1000,
        blank=True,
        help_text=_(
            "An iCal feed of overrides (read-only, refreshed by the worker): each event puts "
            "its person on call over the layers or the feed above, as Grafana OnCall's "
            "override calendar. Overrides made in cxhub win over it."
        ),
        verbose_name=_("iCal overrides URL"),
    )
    feed_ics = models.TextField(
        blank=True, editable=False, help_text=_("The feed's last good calendar.")
    )
    feed_overrides_ics = models.TextField(
        blank=True, editable=False, help_text=_("The overrides feed's last good calendar.")
    )
    feed_error = models.TextField(blank=True, editable=False, verbose_name=_("feed error"))
    feed_checked_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("feed checked at")
    )
    shifts_from = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("Shifts are materialized from this moment ..."),
        verbose_name=_("shifts from"),
    )
    shifts_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("... to this one (the horizon)."),
        verbose_name=_("shifts until"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from cxhub import outbound

        for name in ("ical_url", "ical_overrides_url"):
            if url := getattr(self, name):
                try:
                    outbound.check_url(url)
                except outbound.OutboundRefused as refused:
                    raise ValidationError({name: str(refused)}) from None


class Layer(models.Model):
    """A rotation of participants; a higher `order` wins where both have someone.

    Unless the schedule's layers add up: then both are on call.
    """

    class Rotation(models.TextChoices):
        HOURLY = "hourly", _("Hourly")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        CUSTOM = "custom", _("Custom length")

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="layers", verbose_name=_("schedule")
    )
    order = models.PositiveSmallIntegerField(
        default=1, help_text=_("1 is the bottom layer; higher layers win."), verbose_name=_("order")
    )
    name = models.CharField(max_length=100, blank=True, verbose_name=_("name"))
    rotation_type = models.CharField(
        max_length=10,
        choices=Rotation.choices,
        default=Rotation.WEEKLY,
        verbose_name=_("rotation"),
    )
    rotation_length = models.DurationField(
        null=True,
        blank=True,
        help_text=_("Custom rotations only: each turn's length (e.g. 12:00:00 or 2 days)."),
        verbose_name=_("turn length"),
    )
    start = models.DateTimeField(
        help_text=_("The first handoff; later handoffs keep its wall-clock time."),
        verbose_name=_("start"),
    )
    end = models.DateTimeField(null=True, blank=True, verbose_name=_("end"))
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="LayerParticipant",
        related_name="+",
        verbose_name=_("participants"),
    )

    class Meta:
        verbose_name = _("layer")
        verbose_name_plural = _("layers")
        ordering = ["schedule", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "order"],
                name="unique_layer_order",
                violation_error_message=_("Two layers of a schedule cannot have the same order."),
            ),
            models.CheckConstraint(
                condition=~models.Q(rotation_type="custom")
                | models.Q(rotation_length__isnull=False),
                name="custom_layer_has_length",
                violation_error_message=_("A custom rotation needs its turn length."),
            ),
        ]

    def __str__(self):
        return self.name or f"{self.schedule} · {_('layer')} {self.order}"

    def clean(self):
        if self.rotation_length is not None and self.rotation_length < timedelta(minutes=1):
            raise ValidationError({"rotation_length": _("A turn lasts at least one minute.")})
        if self.end and self.start and self.end <= self.start:
            raise ValidationError({"end": _("The end must be after the start.")})


class LayerParticipant(models.Model):
    layer = models.ForeignKey(
        Layer, on_delete=models.CASCADE, related_name="members", verbose_name=_("layer")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("person"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["layer", "position", "id"]

    def __str__(self):
        return f"{self.position}. {self.user}"


class Restriction(models.Model):
    """When a layer may be on call: a window every day, or every week from a weekday."""

    class Kind(models.TextChoices):
        DAY = "day", _("Every day")
        WEEK = "week", _("Every week")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    layer = models.ForeignKey(
        Layer, on_delete=models.CASCADE, related_name="restrictions", verbose_name=_("layer")
    )
    kind = models.CharField(
        max_length=4, choices=Kind.choices, default=Kind.DAY, verbose_name=_("kind")
    )
    start_day = models.PositiveSmallIntegerField(
        choices=Weekday.choices,
        default=Weekday.MONDAY,
        help_text=_("Weekly windows only."),
        verbose_name=_("start day"),
    )
    start_time = models.TimeField(verbose_name=_("start time"))
    duration = models.DurationField(
        help_text=_("E.g. 08:00:00 (09:00-17:00), or 4 days 08:00:00 (Monday 09:00-Friday 17:00)."),
        verbose_name=_("duration"),
    )

    class Meta:
        verbose_name = _("restriction")
        verbose_name_plural = _("restrictions")
        ordering = ["layer", "kind", "start_day", "start_time"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.start_time:%H:%M} +{self.duration}"

    def clean(self):
        longest = timedelta(days=1) if self.kind == self.Kind.DAY else timedelta(days=7)
        if self.duration is not None and not timedelta(0) < self.duration <= longest:
            raise ValidationError(
                {
                    "duration": _("A %(kind)s window lasts more than 0 and at most %(longest)s.")
                    % {"kind": self.get_kind_display().lower(), "longest": longest}
                }
            )


class Override(models.Model):
    """A person on call for a period instead of whoever the layers say."""

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="overrides", verbose_name=_("schedule")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="oncall_overrides",
        verbose_name=_("person"),
    )
    start = models.DateTimeField(verbose_name=_("start"))
    end = models.DateTimeField(verbose_name=_("end"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        ordering = ["schedule", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")),
                name="override_ends_after_start",
                violation_error_message=_("The end must be after the start."),
            )
        ]
        indexes = [
            # The final schedule's inputs: overrides of a schedule that end after a moment.
            models.Index(fields=["schedule", "end"], name="override_schedule_end"),
        ]

    def __str__(self):
        return f"{self.user} on {self.schedule} {self.start:%Y-%m-%d %H:%M}"


class Shift(models.Model):
    """One interval of a schedule's final schedule, materialized for a horizon."""

    class Source(models.TextChoices):
        LAYER = "layer", _("Layer")
        OVERRIDE = "override", _("Override")
        FEED = "feed", _("iCal feed")

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("schedule")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="oncall_shifts",
        verbose_name=_("person"),
    )
    start = models.DateTimeField(verbose_name=_("start"))
    end = models.DateTimeField(verbose_name=_("end"))
    source = models.CharField(max_length=10, choices=Source.choices, verbose_name=_("source"))
    layer = models.ForeignKey(
        Layer, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("layer")
    )
    override = models.ForeignKey(
        Override, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("override")
    )

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["schedule", "start"]
        indexes = [
            # Who is on call at t: schedule = s AND "end" > t AND start <= t. Leading with
            # "end" bounds the scan to the shifts still ahead (at most the horizon), where
            # a (schedule, start) index would scan every past shift.
            models.Index(fields=["schedule", "end", "start"], name="shift_oncall_at"),
            # A person's next shifts (their page, their calendar): user = u AND "end" > now.
            models.Index(fields=["user", "end"], name="shift_user_upcoming"),
        ]

    def __str__(self):
        return f"{self.user} {self.start:%Y-%m-%d %H:%M} - {self.end:%Y-%m-%d %H:%M}"


class CalendarToken(models.Model):
    """The secret in a schedule's or a person's iCal link; only its hash is kept.

    One per owner: regenerating replaces it, so the old link stops working.
    """

    schedule = models.OneToOneField(
        Schedule,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_token",
        verbose_name=_("schedule"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="oncall_calendar_token",
        verbose_name=_("person"),
    )
    token_hash = models.CharField(max_length=64, unique=True, verbose_name=_("token hash"))
    prefix = models.CharField(max_length=12, verbose_name=_("prefix"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("calendar link")
        verbose_name_plural = _("calendar links")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(schedule__isnull=True, user__isnull=False)
                | models.Q(schedule__isnull=False, user__isnull=True),
                name="calendar_token_one_owner",
            )
        ]

    def __str__(self):
        return f"{self.schedule or self.user} ({self.prefix}…)"

    def set_new_token(self) -> str:
        """Give the row a new random token and return it; only its hash is kept."""
        token = CALENDAR_TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.token_hash = hash_key(token)
        self.prefix = token[:12]
        return token
