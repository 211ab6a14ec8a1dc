"""A staff member's own settings for the support pages and the admin."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.validators import validate_time_zone


def language_choices():
    return settings.LANGUAGES


class Preference(models.Model):
    """What a person chose once and expects on every device: their language, their clock."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="cxhub_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=language_choices,
        blank=True,
        help_text=_("Empty: follow the browser."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        db_default="",
        validators=[validate_time_zone],
        help_text=_("IANA name (America/Sao_Paulo) for every time shown; empty: the browser's."),
    )

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")

    def __str__(self):
        return f"{self.user}: {self.language or '-'}"


class IncidentSummary(models.Model):
    """What a resolved incident's triggers and push ledger add up to, computed once.

    The support list, the incident page and the reports read these figures for every
    incident they show; counting them from a year of triggers and a ledger of millions
    on every view is what made those pages slow. A resolved incident's triggers and
    ledger no longer change, so the figures are frozen the first time they are read
    (support/summaries.py); `resolved_at` says which resolution they describe, so an
    incident reopened and resolved again is counted afresh.
    """

    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="summary",
        verbose_name=_("incident"),
    )
    resolved_at = models.DateTimeField(verbose_name=_("resolved at"))
    triggers = models.PositiveIntegerField(verbose_name=_("triggers"))
    codes = models.JSONField(
        default=list, help_text=_("[{service, code, n}], most first."), verbose_name=_("codes")
    )
    moments = models.JSONField(
        default=list,
        help_text=_("[[epoch second, reports], ...]: the occurrences chart's input."),
        verbose_name=_("moments"),
    )
    outage_devices = models.PositiveIntegerField(verbose_name=_("outage push devices"))
    outage_customers = models.PositiveIntegerField(verbose_name=_("outage push customers"))
    all_clear_devices = models.PositiveIntegerField(verbose_name=_("all-clear devices"))
    sender_states = models.JSONField(
        default=list,
        help_text=_("[{status, n}]: the sender's acknowledges and resolves, by status."),
        verbose_name=_("sender states"),
    )

    class Meta:
        verbose_name = _("incident summary")
        verbose_name_plural = _("incident summaries")

    def __str__(self):
        return f"{self.incident_id}: {self.triggers} triggers"


class DailySends(models.Model):
    """Pages, pushes and all-clears sent on one closed day (in one time zone), counted once.

    The reports page sums a period's sends per week; over a year of a push ledger of
    millions that was a scan per view. A day that has ended (and settled, five minutes)
    gets no more sends, so its counts are stored the first time a report reads it
    (support/reports.py `sends_final`).
    """

    zone = models.CharField(max_length=64, verbose_name=_("time zone"))
    day = models.DateField(verbose_name=_("day"))
    pages = models.PositiveIntegerField(verbose_name=_("pages"))
    pushes = models.PositiveIntegerField(verbose_name=_("pushes"))
    all_clears = models.PositiveIntegerField(verbose_name=_("all-clears"))

    class Meta:
        verbose_name = _("sends of a day")
        verbose_name_plural = _("sends per day")
        constraints = [
            models.UniqueConstraint(fields=["zone", "day"], name="one_daily_sends_per_zone_day"),
        ]

    def __str__(self):
        return f"{self.day} ({self.zone}): {self.pages} pages, {self.pushes} pushes"


class ResponseDay(models.Model):
    """A closed day of the reports (in one time zone): its incidents, all resolved.

    Its rows hold the day's response sums (support/report_days.py). The fingerprint
    (incidents, reopens, latest resolution) is what the day's incidents looked like
    when counted; a report serves the rows only while the incidents still match it.
    """

    zone = models.CharField(max_length=64, verbose_name=_("time zone"))
    day = models.DateField(verbose_name=_("day"))
    incidents = models.PositiveIntegerField(verbose_name=_("incidents"))
    reopens = models.PositiveIntegerField(verbose_name=_("reopens"))
    last_resolved_at = models.DateTimeField(verbose_name=_("last resolved at"))

    class Meta:
        verbose_name = _("response day")
        verbose_name_plural = _("response days")
        constraints = [
            models.UniqueConstraint(fields=["zone", "day"], name="one_response_day_per_zone_day"),
        ]

    def __str__(self):
        return f"{self.day} ({self.zone}): {self.incidents} incidents"


class ResponseDayRow(models.Model):
    """One action's, team's or service's sums of a closed day: counts and summed durations."""

    class Kind(models.TextChoices):
        ACTION = "action", _("action")
        TEAM = "team", _("team")
        SERVICE = "service", _("service")

    # The unique constraint below leads with the day: it is the foreign key's index.
    response_day = models.ForeignKey(
        ResponseDay,
        on_delete=models.CASCADE,
        related_name="rows",
        db_index=False,
        verbose_name=_("day"),
    )
    # The day's Monday: the per-service chart sums weeks in the database.
    week = models.DateField(verbose_name=_("week"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    key = models.CharField(
        max_length=100,
        help_text=_("The action's or team's id, or the service's slug."),
        verbose_name=_("key"),
    )
    incidents = models.PositiveIntegerField(verbose_name=_("incidents"))
    acknowledged = models.PositiveIntegerField(verbose_name=_("acknowledged"))
    ack_us = models.BigIntegerField(
        help_text=_("Summed times to acknowledge, in microseconds."),
        verbose_name=_("acknowledge time"),
    )
    resolved = models.PositiveIntegerField(verbose_name=_("resolved"))
    resolve_us = models.BigIntegerField(
        help_text=_("Summed times to resolve, in microseconds."), verbose_name=_("resolve time")
    )

    class Meta:
        verbose_name = _("response day row")
        verbose_name_plural = _("response day rows")
        constraints = [
            models.UniqueConstraint(
                fields=["response_day", "kind", "key"], name="one_response_row_per_day_kind_key"
            ),
        ]

    def __str__(self):
        return f"{self.response_day_id} {self.kind} {self.key}"
