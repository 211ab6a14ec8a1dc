"""Recurring maintenance: a rule that writes one-off maintenance windows ahead."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.validators import validate_time_zone


def default_time_zone() -> str:
    return settings.TIME_ZONE


class RecurringMaintenance(models.Model):
    """Planned work that repeats (every Sunday 02:00-04:00): each occurrence is a window.

    The occurrences are `MaintenanceWindow` rows written ahead by
    `incidents.lifecycle.recurrence`, so each one holds pushes and pages exactly like a
    window made by hand, shows on the status page ahead of time, and can be ended
    or cancelled alone.
    """

    service = models.ForeignKey(
        "actions.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="recurring_maintenance",
        help_text=_("Hold every action that covers this service; or give an action instead."),
        verbose_name=_("service"),
    )
    action = models.ForeignKey(
        "actions.Action",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="recurring_maintenance",
        help_text=_("Hold only this action."),
        verbose_name=_("action"),
    )
    rule = models.CharField(
        max_length=300,
        help_text=_(
            "An iCalendar RRULE: FREQ=WEEKLY;BYDAY=SU (every Sunday), "
            "FREQ=MONTHLY;BYDAY=1SA (first Saturday), FREQ=DAILY;COUNT=5."
        ),
        verbose_name=_("repeats (RRULE)"),
    )
    starts_on = models.DateField(
        help_text=_("The first day the rule may fall on."), verbose_name=_("from")
    )
    start_time = models.TimeField(
        help_text=_("Wall-clock time in the time zone below: 02:00."),
        verbose_name=_("starts at"),
    )
    duration_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], verbose_name=_("duration (minutes)")
    )
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("The service's time zone: the rule keeps its wall-clock time across DST."),
        verbose_name=_("time zone"),
    )
    reason = models.CharField(max_length=300, verbose_name=_("reason"))
    status_visible = models.BooleanField(
        default=False,
        help_text=_(
            "Show each occurrence on the status page and in the Open Finance outages ahead "
            "of time (customer-facing services only)."
        ),
        verbose_name=_("on the status page"),
    )
    materialized_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("Occurrences starting before this are written as maintenance windows."),
        verbose_name=_("written until"),
    )
    created_by = models.CharField(
        max_length=150, blank=True, editable=False, verbose_name=_("created by")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("recurring maintenance")
        verbose_name_plural = _("recurring maintenance")
        ordering = ["reason"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(service__isnull=False) & models.Q(action__isnull=True))
                | (models.Q(service__isnull=True) & models.Q(action__isnull=False)),
                name="recurring_maintenance_covers_service_or_action",
                violation_error_message=_("Give either a service or an action."),
            ),
        ]

    def __str__(self):
        return f"{self.action or self.service}: {self.reason} ({self.rule})"

    def clean(self):
        from datetime import datetime

        from incidents.models.recurrence import RecurrenceError, rule_parse

        if self.rule and self.starts_on and self.start_time:
            try:
                rule_parse(
                    self.rule,
                    dtstart=datetime.combine(self.starts_on, self.start_time),
                    time_zone=self.time_zone or "UTC",
                )
            except (RecurrenceError, ValueError, KeyError) as error:  # KeyError: unknown zone
                raise ValidationError({"rule": str(error)}) from error
