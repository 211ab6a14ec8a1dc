from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from actions.admin_forms import (
    ActionForm,
    DryRunForm,
    PushTemplateInline,
    ServiceNameInline,
    TierInline,
    TriggerRuleInline,
    action_warnings,
    prefill_rule,
    triage_request,
)
from actions.audiences import audience_of, texts_of
from actions.models import (
    Action,
    Service,
)
from actions.selectors import service_names
from notifications.messages import LocalTime, text_for
from notifications.models import Device
from notifications.selectors import audience_estimate
from statuspage.admin import OpenFinanceEndpointInline


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "status_visible"]
    list_filter = ["status_visible"]
    list_editable = ["status_visible"]
    search_fields = ["slug", "name"]
    inlines = [ServiceNameInline, OpenFinanceEndpointInline]


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    form = ActionForm
    list_display = ["code", "name", "enabled", "covers", "summary", "push_paused", "dry_run_link"]
    list_filter = ["enabled", "push_paused", "rules__service"]
    search_fields = ["code", "name", "rules__service__slug", "rules__code"]
    inlines = [TriggerRuleInline, TierInline, PushTemplateInline]
    readonly_fields = ["audience_size", "push_preview"]
    filter_horizontal = ["audience_tags"]
    fieldsets = [
        (None, {"fields": ["code", "name", "enabled"]}),
        (
            _("Customer push"),
            {
                "fields": [
                    "push_threshold",
                    "push_message",
                    "all_clear_message",
                    "push_provider",
                    "push_paused",
                    "push_critical",
                    "push_fallback",
                    "status_visible",
                ],
                "description": _(
                    "One push to the audience when the incident reaches the "
                    "threshold; the all-clear, when it resolves, to those it reached. The texts "
                    "here are the default (pt-BR); add one per language below. Variables: "
                    "{service}, {action}, {started_at}, {link}."
                ),
            },
        ),
        (
            _("Four-eyes approval"),
            {
                "fields": [
                    "approval_threshold",
                    "approval_timeout_minutes",
                    "approval_timeout_sends",
                ],
                "description": _(
                    "An outage push to more customers than the threshold waits in Push "
                    "approvals for a second person; whoever last saved the action or ran its dry "
                    "run cannot approve it alone."
                ),
            },
        ),
        (
            _("Lifecycle"),
            {
                "fields": [
                    "quiet_minutes",
                    "flap_minutes",
                    "repeat_minutes",
                    "ack_timeout_minutes",
                ],
                "description": _(
                    "Optional timers. Each incident freezes them with its tiers when it opens."
                ),
            },
        ),
        (
            _("Audience"),
            {
                "fields": [
                    "audience_scope",
                    "audience_tags",
                    "audience_platforms",
                    "audience_locales",
                    "audience_size",
                    "push_preview",
                ],
                "description": _("Who gets the push; size and texts as they stand when saved."),
            },
        ),
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        action = form.instance
        for warning in action_warnings(action):
            messages.warning(request, warning)

    def save_model(self, request, obj, form, change):
        # Whoever sets an action up cannot approve its mass pushes alone (four-eyes).
        obj.last_edited_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        if obj.push_paused and "push_paused" in form.changed_data:
            from incidents.services import action_pushes_cancel

            cancelled = action_pushes_cancel(
                obj,
                reason=f"Stopped by the action's push kill switch ({request.user}).",
            )
            messages.warning(
                request,
                _("Pushes of %(action)s are paused; %(n)s queued batch(es) cancelled.")
                % {"action": obj, "n": cancelled},
            )

    @admin.display(description=_("Audience size now"))
    def audience_size(self, action):
        if not action.pk:
            return _("Save the action to see its audience.")
        size = audience_estimate(audience_of(action))
        return (
            _(
                "%(customers)s customer(s), %(devices)s device(s); "
                "%(opted_out)s customer(s) left out: opted out of outage pushes"
            )
            % size
        )

    @admin.display(description=_("Preview"))
    def push_preview(self, action):
        if not action.pk:
            return "-"
        variables = {
            "service": service_names(
                [rule.service for rule in action.rules.all()], default=action.name
            ),
            "action": action.name,
            "started_at": LocalTime(timezone.now()),
            "link": f"{settings.CXHUB_BASE_URL}/support/incidents/…/",
        }
        texts = texts_of(action)
        locales = ["pt-BR", "en"] + sorted(
            {t.locale for t in action.push_templates.all()} - {"pt-BR", "en"}
        )
        rows = [
            (locale, purpose, text_for(texts, purpose, locale, variables))
            for locale in locales
            for purpose in ("outage", "all_clear")
        ]
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("rules__service", "tiers")

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        rule = prefill_rule(request)
        if rule and isinstance(inline, TriggerRuleInline) and obj._state.adding:
            kwargs["initial"] = [rule]
        return kwargs

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if wanted := triage_request(request):
            # The link's service/code are the rule's, not the action's own code.
            initial.pop("code", None)
            initial.pop("service", None)
            initial.setdefault(
                "name",
                _("%(service)s failing with %(code)s") % {"service": wanted[0], "code": wanted[1]},
            )
        return initial

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        wanted = triage_request(request) if object_id is None else None
        if wanted and not Service.objects.filter(slug=wanted[0]).exists():
            extra_context["missing_service"] = {
                "slug": wanted[0],
                "code": wanted[1],
                "can_add": request.user.has_perm("actions.add_service"),
            }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def triage_service_view(self, request):
        """Create the service a triage link names (on confirmation), then reopen the form."""
        if request.method != "POST":
            raise Http404
        if not (request.user.has_perm("actions.add_service") and self.has_add_permission(request)):
            raise PermissionDenied
        slug, code = request.POST.get("service", "").strip(), request.POST.get("code", "")
        field = Service._meta.get_field("slug")
        try:
            field.clean(slug, None)
        except ValidationError as exc:
            messages.error(request, _("Service: %(error)s") % {"error": " ".join(exc.messages)})
            return redirect("admin:actions_action_changelist")
        service, created = Service.objects.get_or_create(slug=slug, defaults={"name": slug})
        if created:
            messages.success(
                request,
                _("Service %(slug)s created; give it its customer-facing name later.")
                % {"slug": service.slug},
            )
        return redirect(
            f"{reverse('admin:actions_action_add')}?{urlencode({'service': slug, 'code': code})}"
        )

    @admin.display(description=_("Covers"))
    def covers(self, action):
        return ", ".join(str(rule) for rule in action.rules.all())

    @admin.display(description=_("Communication"))
    def summary(self, action):
        parts = [_("push at %(n)s") % {"n": action.push_threshold}] if action.push_threshold else []
        for tier in sorted(action.tiers.all(), key=lambda t: t.level):
            when = " / ".join(
                text
                for text in (
                    tier.after_occurrences and _("%(n)s occ.") % {"n": tier.after_occurrences},
                    tier.after_minutes is not None and f"{tier.after_minutes} min",
                )
                if text
            )
            parts.append(f"{tier.name} {when}")
        return "; ".join(parts)

    @admin.display(description=_("Dry run"))
    def dry_run_link(self, action):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:actions_action_dry_run", args=[action.pk]),
            _("Replay"),
        )

    def get_urls(self):
        return [
            path(
                "triage-service/",
                self.admin_site.admin_view(self.triage_service_view),
                name="actions_action_triage_service",
            ),
            path(
                "<uuid:object_id>/dry-run/",
                self.admin_site.admin_view(self.dry_run_view),
                name="actions_action_dry_run",
            ),
            *super().get_urls(),
        ]

    def dry_run_view(self, request, object_id):
        """Show what the action, as saved now, would have done over recorded triggers."""
        from incidents.lifecycle.escalation import policy_of
        from incidents.lifecycle.simulation import replay
        from incidents.selectors import action_occurrence_times

        action = self.get_object(request, object_id)
        if action is None:
            raise Http404
        if not self.has_view_permission(request, action):
            raise PermissionDenied
        form = DryRunForm(request.GET or {"days": 7, "quiet_minutes": 30})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": action,
            "title": _("Dry run of %(action)s") % {"action": action},
            "form": form,
        }
        if form.is_valid():
            # Who tests an action cannot approve its mass pushes alone (four-eyes), so
            # a run is remembered even though it writes nothing else.
            Action.objects.filter(pk=action.pk).update(last_tested_by=request.user.get_username())
            now = timezone.now()
            since = now - timedelta(days=form.cleaned_data["days"])
            times = action_occurrence_times(action, since=since)
            incidents = replay(
                policy_of(action),
                times,
                quiet=timedelta(minutes=form.cleaned_data["quiet_minutes"]),
                until=now,
            )
            services = action.rules.values("service_id")
            context.update(
                since=since,
                occurrences=len(times),
                incidents=incidents,
                pushes=sum(1 for i in incidents if i.push_at),
                pages=sum(len(i.pages) for i in incidents),
                audience=Device.objects.filter(enabled=True, customer__services__in=services)
                .distinct()
                .count(),
            )
        return TemplateResponse(request, "admin/actions/action/dry_run.html", context)
