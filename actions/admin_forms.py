"""The action form's parts: its inlines, their checks, the dry run form and save warnings."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from actions.models import (
    Action,
    PushTemplate,
    Service,
    ServiceName,
    Tier,
    TriggerRule,
    validate_tier_order,
)
from actions.reach import audience_empty_reason
from notifications.models import Device


class ServiceNameInline(admin.TabularInline):
    model = ServiceName
    extra = 0
    fields = ["locale", "name"]


class TriggerRuleFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        # Rules the form did not send (none in practice) still exist and still count.
        unsent = (
            self.instance.rules.exclude(pk__in=[f.instance.pk for f in self.initial_forms])
            if self.instance.pk
            else TriggerRule.objects.none()
        )
        if not kept and not unsent.exists():
            raise ValidationError(
                _("Add at least one trigger rule: without one the action never matches a trigger.")
            )


class TriggerRuleInline(admin.TabularInline):
    model = TriggerRule
    formset = TriggerRuleFormSet
    extra = 0
    autocomplete_fields = ["service"]

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if prefill_rule(request) or obj is None else 0


def triage_request(request) -> tuple[str, str] | None:
    """Return the (service slug, code) the triage page's "create an action" link names."""
    service, code = request.GET.get("service", "").strip(), request.GET.get("code", "").strip()
    return (service, code) if request.method == "GET" and service and code else None


def prefill_rule(request) -> dict | None:
    """Return the rule that the triage page's "create an action" link asks for."""
    wanted = triage_request(request)
    if wanted is None:
        return None
    service = Service.objects.filter(slug=wanted[0]).first()
    return {"service": service.pk, "code": wanted[1]} if service else None


class TierFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        tiers = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            validate_tier_order(tiers)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class TierForm(forms.ModelForm):
    """A tier; who it pages defaults to the team's channels (the only target before schedules)."""

    class Meta:
        model = Tier
        fields = [
            "level",
            "name",
            "team",
            "target",
            "schedule",
            "after_occurrences",
            "after_minutes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "target" in self.fields:
            self.fields["target"].required = False

    def clean_target(self):
        return self.cleaned_data.get("target") or Tier.Target.TEAM


class TierInline(admin.TabularInline):
    model = Tier
    form = TierForm
    formset = TierFormSet
    extra = 0
    verbose_name_plural = _(
        "Escalation tiers — each incident keeps the tiers (and the lifecycle settings) it "
        "opened with: editing them here applies to the next incident, never re-pages or "
        "skips anyone in a running one"
    )
    ordering = ["level"]
    fields = [
        "level",
        "name",
        "team",
        "target",
        "schedule",
        "oncall_now",
        "after_occurrences",
        "after_minutes",
    ]
    readonly_fields = ["oncall_now"]

    @admin.display(description=_("on call now"))
    def oncall_now(self, tier):
        if not tier.pk or tier.schedule_id is None or tier.target == Tier.Target.TEAM:
            return "-"
        from oncall.selectors import oncall_at

        people = oncall_at(tier.schedule, timezone.now())
        return ", ".join(p.get_username() for p in people) or _("nobody (the team's channels)")


class DryRunForm(forms.Form):
    days = forms.IntegerField(
        label=_("Replay the last (days)"), min_value=1, max_value=90, initial=7
    )
    quiet_minutes = forms.IntegerField(
        label=_("An incident ends after (quiet minutes)"),
        min_value=1,
        max_value=24 * 60,
        initial=30,
    )


class PushTemplateInline(admin.TabularInline):
    model = PushTemplate
    extra = 0
    fields = ["purpose", "locale", "text"]
    # The admin's large text field is 48em wide: beside the sidebar it pushed the table
    # past a 1366 px screen. The text takes the room the row has, and wraps.
    formfield_overrides = {
        models.TextField: {
            "widget": forms.Textarea(
                attrs={"rows": 3, "style": "width: 100%; min-width: 18em; box-sizing: border-box"}
            )
        }
    }


class ActionForm(forms.ModelForm):
    audience_platforms = forms.MultipleChoiceField(
        choices=Device.Platform.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Audience platforms"),
        help_text=_("Only these platforms (none ticked: all)."),
    )
    audience_locales = forms.CharField(
        required=False,
        label=_("Audience locales"),
        help_text=_(
            "Only customers with these locales, comma-separated, e.g. pt-BR, en (empty: all)."
        ),
    )

    class Meta:
        model = Action
        fields = ["audience_platforms", "audience_locales"]  # the admin adds its fieldsets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["audience_locales"] = ", ".join(self.instance.audience_locales or [])

    def clean_audience_platforms(self):
        return sorted(self.cleaned_data["audience_platforms"])

    def clean_audience_locales(self):
        locales = [x.strip() for x in self.cleaned_data["audience_locales"].split(",")]
        bad = [x for x in locales if x and len(x) > 10]
        if bad:
            raise ValidationError(_("Not a locale: %(locales)s") % {"locales": ", ".join(bad)})
        return sorted({x for x in locales if x})


def action_warnings(action) -> list[str]:
    """Return what is saved but will not do what CX staff likely expect."""
    warnings = []
    if action.push_threshold:
        reason = audience_empty_reason(action)
        if reason:
            warnings.append(
                _("The push at %(n)s occurrences would reach nobody now: %(reason)s")
                % {"n": action.push_threshold, "reason": reason}
            )
    elif not action.tiers.exists():
        warnings.append(
            _(
                "This action neither pushes customers nor pages a team: its incidents are "
                "only recorded. Add a push threshold or a tier."
            )
        )
    return warnings
