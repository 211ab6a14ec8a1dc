from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from actions.models import Action, Service, Tier, TriggerRule, validate_tier_order


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]


class TriggerRuleInline(admin.TabularInline):
    model = TriggerRule
    extra = 0
    autocomplete_fields = ["service"]

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if _prefill_rule(request) else 0


def _prefill_rule(request) -> dict | None:
    """Return the rule that the triage page's "create an action" link asks for."""
    if request.method != "GET" or not request.GET.get("code"):
        return None
    service = Service.objects.filter(slug=request.GET.get("service", "")).first()
    return {"service": service.pk, "code": request.GET["code"]} if service else None


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


class TierInline(admin.TabularInline):
    model = Tier
    formset = TierFormSet
    extra = 0
    verbose_name_plural = (
        "Escalation tiers — each incident keeps the tiers (and the lifecycle settings) it "
        "opened with: editing them here applies to the next incident, never re-pages or "
        "skips anyone in a running one"
    )
    ordering = ["level"]
    fields = ["level", "name", "team", "after_occurrences", "after_minutes"]


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "enabled", "covers", "summary"]
    list_filter = ["enabled", "rules__service"]
    search_fields = ["code", "name", "rules__service__slug", "rules__code"]
    inlines = [TriggerRuleInline, TierInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "enabled"]}),
        (
            "Customer push",
            {
                "fields": ["push_threshold", "push_message", "all_clear_message"],
                "description": "One push to the customers of the failing service when the "
                "incident reaches the threshold; the all-clear when it resolves.",
            },
        ),
        (
            "Lifecycle",
            {
                "fields": [
                    "quiet_minutes",
                    "flap_minutes",
                    "repeat_minutes",
                    "ack_timeout_minutes",
                ],
                "description": "Optional timers. Each incident freezes them with its tiers "
                "when it opens.",
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("rules__service", "tiers")

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        rule = _prefill_rule(request)
        if rule and isinstance(inline, TriggerRuleInline) and obj._state.adding:
            kwargs["initial"] = [rule]
        return kwargs

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if request.GET.get("service") and request.GET.get("code"):
            initial.setdefault("name", f"{request.GET['service']} {request.GET['code']}")
        return initial

    @admin.display(description="Covers")
    def covers(self, action):
        return ", ".join(str(rule) for rule in action.rules.all())

    @admin.display(description="Communication")
    def summary(self, action):
        parts = [f"push at {action.push_threshold}"] if action.push_threshold else []
        for tier in sorted(action.tiers.all(), key=lambda t: t.level):
            when = " / ".join(
                text
                for text in (
                    tier.after_occurrences and f"{tier.after_occurrences} occ.",
                    tier.after_minutes is not None and f"{tier.after_minutes} min",
                )
                if text
            )
            parts.append(f"{tier.name} {when}")
        return "; ".join(parts)
