"""Services, actions (playbooks), their trigger rules and escalation tiers."""

import re
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.messages import TemplateError, check_template
from notifications.providers import PUSH_PROVIDER_CHOICES

CODE_CLASS_RE = re.compile(r"^[1-9]xx$")
ANY_CODE = "*"


def code_keys(code: str) -> list[str]:
    """Return the rule codes that cover `code`: itself, its class (`5xx`) and any (`*`)."""
    keys = [code, ANY_CODE]
    if len(code) == 3 and code.isdigit() and code[0] != "0":
        keys.insert(1, f"{code[0]}xx")
    return keys


class Service(models.Model):
    slug = models.SlugField(max_length=100, unique=True, help_text="As monitoring names it: login")
    name = models.CharField(max_length=200, help_text="As customers know it: Login no app")

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class AudienceScope(models.TextChoices):
    SERVICE = "service", "Customers of the failing service"
    ALL = "all", "All customers"


class Action(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=20, unique=True, help_text="Short reference, e.g. 0001")
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    push_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Push to impacted customers at this many occurrences; empty: never push.",
    )
    push_message = models.TextField(
        blank=True, default="Infelizmente nosso app está indisponível, avisaremos quando voltar"
    )
    all_clear_message = models.TextField(blank=True, default="Voltamos a funcionar")
    quiet_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name="quiet period (minutes)",
        help_text="Resolve the incident by itself after this many minutes without an "
        "occurrence; empty: only by hand or a resolved signal.",
    )
    flap_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name="flap window (minutes)",
        help_text="A trigger within this many minutes after resolution reopens the same "
        "incident; empty: it always opens a new one.",
    )
    repeat_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name="repeat page every (minutes)",
        help_text="Page the highest paged tier again every this many minutes until someone "
        "acknowledges or it resolves; empty: page each tier once.",
    )
    ack_timeout_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name="acknowledgement timeout (minutes)",
        help_text="An acknowledged incident not resolved this many minutes later is open "
        "again and escalation resumes where it was; empty: an acknowledgement holds.",
    )
    push_provider = models.CharField(
        max_length=20,
        blank=True,
        choices=PUSH_PROVIDER_CHOICES,
        help_text="Empty: the global CXHUB_PUSH_PROVIDER.",
    )
    push_paused = models.BooleanField(
        default=False,
        help_text="Kill switch: queued pushes of this action are cancelled, none is sent.",
    )
    audience_scope = models.CharField(
        max_length=10, choices=AudienceScope.choices, default=AudienceScope.SERVICE
    )
    audience_tags = models.ManyToManyField(
        "notifications.Tag",
        blank=True,
        related_name="actions",
        help_text="Only customers with at least one of these tags (empty: no narrowing).",
    )
    audience_platforms = models.JSONField(
        default=list, blank=True, help_text="Only these platforms (empty: all)."
    )
    audience_locales = models.JSONField(
        default=list, blank=True, help_text="Only customers with these locales (empty: all)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        if self.push_threshold and not self.push_message.strip():
            raise ValidationError({"push_message": "A push threshold needs a push message."})
        errors = {}
        for field in ("push_message", "all_clear_message"):
            try:
                check_template(getattr(self, field))
            except TemplateError as exc:
                errors[field] = str(exc)
        if errors:
            raise ValidationError(errors)


class PushTemplate(models.Model):
    """The text of an action's push in one language; the action's own text is the fallback."""

    class Purpose(models.TextChoices):
        OUTAGE = "outage", "Outage push"
        ALL_CLEAR = "all_clear", "All-clear"

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="push_templates")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    locale = models.CharField(max_length=10, help_text="pt-BR, en, es ...")
    text = models.TextField(help_text="Variables: {service}, {action}, {started_at}, {link}.")

    class Meta:
        ordering = ["action", "purpose", "locale"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "purpose", "locale"], name="one_push_text_per_locale"
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} ({self.locale})"

    def clean(self):
        try:
            check_template(self.text)
        except TemplateError as exc:
            raise ValidationError({"text": str(exc)}) from None


class TriggerRule(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="rules")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="rules")
    code = models.CharField(
        max_length=64,
        help_text="An exact code (503, timeout), a class (5xx) or * for any code.",
    )

    class Meta:
        verbose_name = _("trigger rule")
        verbose_name_plural = _("trigger rules")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "code", "action"], name="unique_rule_per_action"
            ),
        ]
        # The unique index (service, code, action) serves matching:
        # rules.filter(service__slug=s, code__in=code_keys(c)).

    def __str__(self):
        return f"{self.service.slug}/{self.code}"

    def save(self, *args, **kwargs):
        self.code = self.code.strip()
        if CODE_CLASS_RE.match(self.code.lower()):
            self.code = self.code.lower()
        super().save(*args, **kwargs)


class Tier(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="tiers")
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    name = models.CharField(max_length=100, help_text="Analista N1")
    team = models.ForeignKey("notifications.Team", on_delete=models.PROTECT, related_name="tiers")
    after_occurrences = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    after_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["action", "level"]
        constraints = [
            models.UniqueConstraint(fields=["action", "level"], name="unique_tier_level"),
            models.CheckConstraint(
                condition=models.Q(after_occurrences__isnull=False)
                | models.Q(after_minutes__isnull=False),
                name="tier_has_threshold",
            ),
        ]

    def __str__(self):
        return f"{self.level}. {self.name}"

    def clean(self):
        if self.after_occurrences is None and self.after_minutes is None:
            raise ValidationError(
                "Give the tier an occurrence count, a number of minutes, or both."
            )


def validate_tier_order(tiers) -> None:
    """Raise ValidationError if thresholds go down as the level goes up.

    `tiers` are objects with level, name, after_occurrences and after_minutes.
    """
    ordered = sorted(tiers, key=lambda t: t.level)
    errors = []
    for lower, higher in zip(ordered, ordered[1:], strict=False):
        for field, label in (("after_occurrences", "occurrences"), ("after_minutes", "minutes")):
            low, high = getattr(lower, field), getattr(higher, field)
            if low is not None and high is not None and high < low:
                errors.append(
                    f"Tier {higher.level} ({higher.name}) fires at {high} {label}, before "
                    f"tier {lower.level} ({lower.name}) at {low} {label}: "
                    "thresholds must not go down as the level goes up."
                )
    if errors:
        raise ValidationError(errors)
