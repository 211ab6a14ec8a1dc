"""Actions (playbooks), their push templates, trigger rules and escalation tiers.

The service catalogue is in `service_models` (its models importable from here), the
rule-code grammar in `rule_codes`.
"""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from actions.approval_rules import laxer_than_bank
from actions.rule_codes import CODE_CLASS_RE, RULE_CODE_HELP, rule_code_error
from actions.service_models import Service, ServiceName  # noqa: F401 (importable from here)
from notifications.messages import TemplateError, check_template
from notifications.providers import PUSH_PROVIDER_CHOICES


class AudienceScope(models.TextChoices):
    SERVICE = "service", _("Customers of the failing service")
    ALL = "all", _("All customers")


class FallbackChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class Action(models.Model):
    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    code = models.CharField(
        max_length=20,
        unique=True,
        help_text=_("Short reference, e.g. 0001"),
        verbose_name=_("code"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    push_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Push to impacted customers at this many occurrences; empty: never push."),
        verbose_name=_("push threshold"),
    )
    push_message = models.TextField(
        blank=True,
        default="Infelizmente nosso app está indisponível, avisaremos quando voltar",
        verbose_name=_("push message"),
    )
    all_clear_message = models.TextField(
        blank=True, default="Voltamos a funcionar", verbose_name=_("all clear message")
    )
    quiet_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name=_("quiet period (minutes)"),
        help_text=_(
            "Resolve the incident by itself after this many minutes without an "
            "occurrence; empty: only by hand or a resolved signal."
        ),
    )
    flap_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name=_("flap window (minutes)"),
        help_text=_(
            "A trigger within this many minutes after resolution reopens the same "
            "incident; empty: it always opens a new one."
        ),
    )
    repeat_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name=_("repeat page every (minutes)"),
        help_text=_(
            "Page the highest paged tier again every this many minutes until someone "
            "acknowledges or it resolves; empty: page each tier once."
        ),
    )
    ack_timeout_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name=_("acknowledgement timeout (minutes)"),
        help_text=_(
            "An acknowledged incident not resolved this many minutes later is open "
            "again and escalation resumes where it was; empty: an acknowledgement holds."
        ),
    )
    push_provider = models.CharField(
        max_length=20,
        blank=True,
        choices=PUSH_PROVIDER_CHOICES,
        help_text=_("Empty: the global CXHUB_PUSH_PROVIDER."),
        verbose_name=_("push provider"),
    )
    push_paused = models.BooleanField(
        default=False,
        help_text=_("Kill switch: queued pushes of this action are cancelled, none is sent."),
        verbose_name=_("push paused"),
    )
    approval_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "An outage push to more customers than this waits for a second person's "
            "approval. Empty: the bank's CXHUB_PUSH_APPROVAL_THRESHOLD, which an action may "
            "only lower."
        ),
        verbose_name=_("approval threshold"),
    )
    approval_timeout_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("When nobody decides within this many minutes (empty: it waits)."),
        verbose_name=_("approval timeout (minutes)"),
    )
    approval_timeout_sends = models.BooleanField(
        default=False,
        help_text=_(
            "On timeout, send the push (ticked, only where the bank's "
            "CXHUB_PUSH_APPROVAL_TIMEOUT_SENDS allows it) or cancel it."
        ),
        verbose_name=_("send on approval timeout"),
    )
    last_edited_by = models.CharField(
        max_length=150,
        blank=True,
        editable=False,
        help_text=_("Who last saved the action: cannot approve its pushes alone."),
        verbose_name=_("last edited by"),
    )
    push_authors = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text=_("Who changed the action, and when: none approves its pushes alone."),
        verbose_name=_("authors"),
    )
    push_approved_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("A second person approved a push of the action as it stood then."),
        verbose_name=_("content approved at"),
    )
    push_critical = models.BooleanField(
        default=False,
        help_text=_(
            "Send the outage push even in the customer's quiet hours (a card block, a fraud "
            "alert); otherwise it is held until their morning, and dropped if the incident "
            "resolves meanwhile."
        ),
        verbose_name=_("critical"),
    )
    push_fallback = models.CharField(
        max_length=10,
        blank=True,
        choices=FallbackChannel.choices,
        help_text=_(
            "For a customer with no enabled device, or whose every device failed for good: "
            "tell them once by SMS or e-mail instead, if they consented. Empty: no fallback."
        ),
        verbose_name=_("fallback channel"),
    )
    status_visible = models.BooleanField(
        default=False,
        help_text=_(
            "Show this action's incidents in the status page's history, under the names of "
            "its services (never its code, name or teams)."
        ),
        verbose_name=_("on the status page"),
    )
    audience_scope = models.CharField(
        max_length=10,
        choices=AudienceScope.choices,
        default=AudienceScope.SERVICE,
        verbose_name=_("audience scope"),
    )
    audience_tags = models.ManyToManyField(
        "notifications.Tag",
        blank=True,
        related_name="actions",
        help_text=_("Only customers with at least one of these tags (empty: no narrowing)."),
        verbose_name=_("audience tags"),
    )
    audience_platforms = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Only these platforms (empty: all)."),
        verbose_name=_("audience platforms"),
    )
    audience_locales = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Only customers with these locales (empty: all)."),
        verbose_name=_("audience locales"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        if self.push_threshold and not self.push_message.strip():
            raise ValidationError({"push_message": _("A push threshold needs a push message.")})
        errors = laxer_than_bank(
            threshold=self.approval_threshold, timeout_sends=self.approval_timeout_sends
        )
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
        OUTAGE = "outage", _("Outage push")
        ALL_CLEAR = "all_clear", _("All-clear")

    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="push_templates", verbose_name=_("action")
    )
    purpose = models.CharField(max_length=10, choices=Purpose.choices, verbose_name=_("purpose"))
    locale = models.CharField(
        max_length=10, help_text=_("pt-BR, en, es ..."), verbose_name=_("locale")
    )
    text = models.TextField(
        help_text=_("Variables: {service}, {action}, {started_at}, {link}."), verbose_name=_("text")
    )

    class Meta:
        verbose_name = _("push template")
        verbose_name_plural = _("push templates")
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
    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="rules", verbose_name=_("action")
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="rules", verbose_name=_("service")
    )
    code = models.CharField(max_length=64, help_text=RULE_CODE_HELP, verbose_name=_("code"))

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

    def clean(self):
        if error := rule_code_error(self.code or ""):
            raise ValidationError({"code": error})


class Tier(models.Model):
    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("action")
    )
    level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], verbose_name=_("level")
    )
    name = models.CharField(max_length=100, help_text=_("Analista N1"), verbose_name=_("name"))
    team = models.ForeignKey(
        "notifications.Team", on_delete=models.PROTECT, related_name="tiers", verbose_name=_("team")
    )
    after_occurrences = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name=_("after occurrences"),
    )
    after_minutes = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("after minutes")
    )

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["action", "level"]
        constraints = [
            models.UniqueConstraint(fields=["action", "level"], name="unique_tier_level"),
            # Its message is what a form shows (never the constraint's name).
            models.CheckConstraint(
                condition=models.Q(after_occurrences__isnull=False)
                | models.Q(after_minutes__isnull=False),
                name="tier_has_threshold",
                violation_error_message=_(
                    "Give the tier an occurrence count, a number of minutes, or both."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.level}. {self.name}"


def validate_tier_order(tiers) -> None:
    """Raise ValidationError if thresholds go down as the level goes up.

    `tiers` are objects with level, name, after_occurrences and after_minutes.
    """
    ordered = sorted(tiers, key=lambda t: t.level)
    errors = []
    for lower, higher in zip(ordered, ordered[1:], strict=False):
        for field, label in (
            ("after_occurrences", _("occurrences")),
            ("after_minutes", _("minutes")),
        ):
            low, high = getattr(lower, field), getattr(higher, field)
            if low is not None and high is not None and high < low:
                errors.append(
                    _(
                        "Tier %(level)s (%(name)s) fires at %(high)s %(label)s, before "
                        "tier %(lower_level)s (%(lower_name)s) at %(low)s %(label)s: "
                        "thresholds must not go down as the level goes up."
                    )
                    % {
                        "level": higher.level,
                        "name": higher.name,
                        "high": high,
                        "label": label,
                        "lower_level": lower.level,
                        "lower_name": lower.name,
                        "low": low,
                    }
                )
    if errors:
        raise ValidationError(errors)
