import json

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from actions.selectors import actions_matching
from cxhub import audit
from cxhub.rules import may
from cxhub.timefmt import local_label
from incidents import approval_admin, inbound, selectors, services  # noqa: F401 (registers)
from incidents.models import (
    Incident,
    Integration,
    MaintenanceWindow,
    Report,
    TimelineEvent,
    TriageAlert,
    Trigger,
)
from notifications.models import Delivery, PushRecord

# The incident page shows this many latest payloads, each cut to this many characters;
# the rest is one click away (the report's own page, or all of the incident's).
PAYLOADS_SHOWN = 10
PAYLOAD_PREVIEW = 2000


def _all_clear_reach(incidents) -> list[tuple]:
    """Return (incident, devices, customers) the all-clear of each incident would reach."""
    incidents = list(incidents)
    sent = {
        row["incident_id"]: row
        for row in PushRecord.objects.filter(
            incident__in=incidents,
            purpose=PushRecord.Purpose.OUTAGE,
            status=PushRecord.Status.SENT,
        )
        .values("incident_id")
        .annotate(devices=Count("id"), customers=Count("customer_ref", distinct=True))
    }
    empty = {"devices": 0, "customers": 0}
    return [
        (i, sent.get(i.pk, empty)["devices"], sent.get(i.pk, empty)["customers"]) for i in incidents
    ]


def integration_url(integration) -> str:
    """Return the absolute URL an integration's token is for (token not included).

    Opsgenie senders are given the root (their `api_url`; they append v2/alerts).
    """
    if integration.kind == Integration.Kind.OPSGENIE:
        return f"{settings.CXHUB_BASE_URL}/"
    if integration.kind == Integration.Kind.APP_BACKEND:
        return f"{settings.CXHUB_BASE_URL}{integration.endpoint}"
    return f"{settings.CXHUB_BASE_URL}/api/v1/integrations/{integration.kind}/"


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is written by cxhub only; people read it and act through admin actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "scope",
        "enabled",
        "token_hint",
        "last_received_at",
        "trigger_count",
        "last_error",
    ]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]
    readonly_fields = [
        "scope",
        "token_hint",
        "created_at",
        "last_received_at",
        "trigger_count",
        "last_error",
        "ingest_url",
        "default_mapping",
    ]
    actions = ["rotate_token"]

    @admin.display(description=_("Ingest URL"))
    def ingest_url(self, integration):
        return integration_url(integration) if integration.pk else "-"

    @admin.display(description=_("May do"))
    def scope(self, integration):
        return integration.scope if integration.pk else "-"

    @admin.display(description=_("Default mapping of this kind"))
    def default_mapping(self, integration):
        return json.dumps(inbound.DEFAULT_MAPPINGS.get(integration.kind, {}), indent=1)

    @admin.display(description=_("Token"))
    def token_hint(self, integration):
        return f"{integration.token_prefix}…" if integration.token_prefix else "-"

    def save_model(self, request, obj, form, change):
        token = None if change else obj.set_new_token()
        super().save_model(request, obj, form, change)
        if token:
            self._show_token(request, obj, token)

    @admin.action(
        description=_("Rotate the token of the selected integrations"), permissions=["change"]
    )
    def rotate_token(self, request, queryset):
        for integration in queryset:
            token = integration.set_new_token()
            integration.save(update_fields=["token_hash", "token_prefix"])
            audit.record(request.user, [integration], gettext("Rotated the token."))
            self._show_token(request, integration, token)

    def _show_token(self, request, integration, token):
        if integration.kind == Integration.Kind.OPSGENIE:
            messages.warning(
                request,
                _(
                    "API key for %(name)s, shown only now: %(token)s (api_url %(url)s, sent as "
                    "'Authorization: GenieKey %(token)s')"
                )
                % {"name": integration.name, "token": token, "url": integration_url(integration)},
            )
            return
        messages.warning(
            request,
            _(
                "Token for %(name)s, shown only now: %(token)s (send it as "
                "'Authorization: Bearer %(token)s' to %(url)s, or post to %(url)s%(token)s)"
            )
            % {"name": integration.name, "token": token, "url": integration_url(integration)},
        )


# The keys of notifications.selectors.push_progress, as the admin shows them.
PUSH_PROGRESS_LABELS = {
    "queued": _("queued"),
    "batches_pending": _("batches pending"),
    "sent": _("sent"),
    "failed": _("failed"),
    "capped": _("capped"),
    "cancelled": _("cancelled"),
    "all_clear_sent": _("all clear sent"),
}


class TimelineInline(admin.TabularInline):
    model = TimelineEvent
    fields = ["at", "kind", "actor", "detail_text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("detail"))
    def detail_text(self, event):
        return event.text


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = [
        "purpose",
        "tier_level",
        "team",
        "channel",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = [
        "opened_at",
        "action",
        "status",
        "occurrences",
        "escalation_level",
        "held",
        "push_queued_at",
        "resolved_at",
        "support_page",
    ]
    list_filter = ["status", "action", "opened_at"]
    search_fields = ["action__code", "action__name", "action__rules__service__slug"]
    date_hierarchy = "opened_at"
    list_select_related = ["action"]
    readonly_fields = ["frozen_policy", "push_progress", "payloads"]
    inlines = [TimelineInline, DeliveryInline]
    actions = ["acknowledge", "resolve", "silence_30", "silence_120", "end_silence"]

    @admin.display(description=_("Customer push progress (devices)"))
    def push_progress(self, incident):
        from notifications.selectors import push_progress

        return ", ".join(
            f"{PUSH_PROGRESS_LABELS.get(k, k.replace('_', ' '))} {v}"
            for k, v in push_progress(incident).items()
        )

    @admin.display(description=_("Held"))
    def held(self, incident):
        if incident.maintenance_until:
            return _("maintenance")
        return _("silenced") if incident.silenced_until else ""

    @admin.display(description=_("Escalation policy (frozen when the incident opened)"))
    def frozen_policy(self, incident):
        policy = incident.policy
        tiers = format_html_join(
            "",
            _("<li>Tier {}: {} — at {} occurrences / after {} minutes</li>"),
            (
                (t["level"], t["name"], t["occurrences"] or "-", t["minutes"] or "-")
                for t in policy.get("tiers", [])
            ),
        )
        timers = ", ".join(
            f"{label} {policy[key]} min"
            for key, label in (
                ("quiet_minutes", _("quiet period")),
                ("flap_minutes", _("flap window")),
                ("repeat_minutes", _("repeat every")),
                ("ack_timeout_minutes", _("acknowledgement timeout")),
            )
            if policy.get(key)
        )
        return format_html(
            _(
                "<p>These tiers were frozen when the incident opened: editing the action does "
                "not re-page or skip anyone here.</p><ul>{}</ul><p>Push at {} occurrences. {}</p>"
            ),
            tiers,
            policy.get("push_threshold") or "-",
            timers or _("No lifecycle timers."),
        )

    @admin.display(description=_("Payloads received (latest first)"))
    def payloads(self, incident):
        # Collapsed and capped: a storm's payloads inline made this page megabytes.
        reports = selectors.incident_reports(incident, limit=PAYLOADS_SHOWN)
        if not reports:
            return "-"
        items = format_html_join(
            "",
            '<details><summary>{} · {} · {}</summary><pre>{}</pre><a href="{}">{}</a></details>',
            (
                (
                    local_label(r.received_at),
                    r.integration or "-",
                    _("%(n)s bytes") % {"n": len(text)},
                    text[:PAYLOAD_PREVIEW] + ("\n…" if len(text) > PAYLOAD_PREVIEW else ""),
                    reverse("admin:incidents_report_change", args=[r.pk]),
                    _("Full payload"),
                )
                for r in reports
                for text in [json.dumps(r.payload, indent=1, ensure_ascii=False)]
            ),
        )
        every = (
            f"{reverse('admin:incidents_report_changelist')}?"
            f"{urlencode({'triggers__incident__id__exact': incident.pk})}"
        )
        return format_html(
            '{}<p><a href="{}">{}</a></p>', items, every, _("Every payload of this incident")
        )

    @admin.display(description=_("Support page"))
    def support_page(self, incident):
        url = reverse("support:incident", args=[incident.pk])
        return format_html('<a href="{}">{}</a>', url, _("View"))

    def has_respond_permission(self, request):
        return may(request.user, "acknowledge")

    @admin.action(
        description=_("Acknowledge the selected incidents (stops tier pages)"),
        permissions=["respond"],
    )
    def acknowledge(self, request, queryset):
        changed = [
            incident
            for incident in queryset
            if services.incident_acknowledge(
                incident_id=incident.pk, by=request.user.get_username()
            )
        ]
        audit.record(request.user, changed, gettext("Acknowledged."))
        done = len(changed)
        messages.success(request, _("%(n)d incident(s) acknowledged.") % {"n": done})

    @admin.action(
        description=_("Resolve the selected incidents (sends the all-clear)"),
        permissions=["respond"],
    )
    def resolve(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            # The all-clear reaches customers: say how many before it goes out.
            return TemplateResponse(
                request,
                "admin/incidents/incident/resolve_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "title": _("Resolve incidents"),
                    "rows": _all_clear_reach(queryset.select_related("action")),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        note = request.POST.get("note", "").strip()[:1000]
        changed = [
            incident
            for incident in queryset
            if services.incident_resolve(
                incident_id=incident.pk, by=request.user.get_username(), note=note
            )
        ]
        audit.record(request.user, changed, gettext("Resolved."))
        done = len(changed)
        messages.success(request, _("%(n)d incident(s) resolved.") % {"n": done})
        return None

    def _silence(self, request, queryset, minutes):
        changed = [
            incident
            for incident in queryset
            if services.incident_silence(
                incident_id=incident.pk, minutes=minutes, by=request.user.get_username()
            )
        ]
        audit.record(request.user, changed, gettext("Silenced for %(n)s minutes.") % {"n": minutes})
        done = len(changed)
        if minutes:
            text = _("%(n)s incident(s) silenced for %(minutes)s minutes.")
        else:
            text = _("%(n)s incident(s) no longer silenced.")
        messages.success(request, text % {"n": done, "minutes": minutes})

    @admin.action(
        description=_("Silence the selected incidents for 30 minutes (no pages)"),
        permissions=["respond"],
    )
    def silence_30(self, request, queryset):
        self._silence(request, queryset, 30)

    @admin.action(
        description=_("Silence the selected incidents for 2 hours (no pages)"),
        permissions=["respond"],
    )
    def silence_120(self, request, queryset):
        self._silence(request, queryset, 120)

    @admin.action(
        description=_("End the silence of the selected incidents"), permissions=["respond"]
    )
    def end_silence(self, request, queryset):
        self._silence(request, queryset, 0)


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["reason", "service", "action", "starts_at", "ends_at", "created_by", "state"]
    list_select_related = ["service", "action"]
    list_filter = ["service", "action"]
    search_fields = ["reason"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["service", "action"]
    readonly_fields = ["created_by", "ended_early_by"]
    actions = ["end_now"]

    @admin.display(description=_("State"))
    def state(self, window):
        now = timezone.now()
        if window.ends_at <= now:
            if window.ended_early_by:
                return _("ended early by %(user)s") % {"user": window.ended_early_by}
            return _("over")
        return _("running") if window.starts_at <= now else _("scheduled")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        services.maintenance_saved(obj)

    def has_end_maintenance_permission(self, request):
        return may(request.user, "end_maintenance")

    @admin.action(
        description=_("End the selected windows now (cancels ones not started)"),
        permissions=["end_maintenance"],
    )
    def end_now(self, request, queryset):
        ended = [
            window
            for window in queryset
            if services.maintenance_end(window_id=window.pk, by=request.user.get_username())
        ]
        audit.record(request.user, ended, gettext("Ended the window now."))
        done = len(ended)
        messages.success(request, _("%(n)s maintenance window(s) ended.") % {"n": done})


@admin.register(Trigger)
class TriggerAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "service", "code", "status", "matched", "incident_link"]
    list_filter = ["matched", "status", "service", "received_at"]
    search_fields = ["service", "code"]
    date_hierarchy = "received_at"
    list_select_related = ["incident__action"]

    @admin.display(description=_("Incident"))
    def incident_link(self, trigger):
        if trigger.incident_id is None:
            return "-"
        url = reverse("admin:incidents_incident_change", args=[trigger.incident_id])
        return format_html('<a href="{}">{}</a>', url, trigger.incident)


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "integration", "processed_at"]
    list_select_related = ["integration"]

    def lookup_allowed(self, lookup, value, request=None):
        # The incident page links here for "every payload of this incident".
        return lookup == "triggers__incident__id__exact" or super().lookup_allowed(
            lookup, value, request
        )

    list_filter = ["integration", "received_at"]
    date_hierarchy = "received_at"


@admin.register(TriageAlert)
class TriageAlertAdmin(ReadOnlyAdmin):
    list_display = ["service", "code", "occurrences", "first_seen_at", "last_seen_at", "create"]
    search_fields = ["service", "code"]
    actions = ["reprocess"]

    def get_changelist_instance(self, request):
        """Match the page's alerts to actions in one query (a query per row was N+1)."""
        changelist = super().get_changelist_instance(request)
        alerts = list(changelist.result_list)
        covering = actions_matching([(a.service, a.code) for a in alerts])
        for alert in alerts:
            alert.covering = covering[alert.service, alert.code]
        return changelist

    @admin.display(description=_("Action"))
    def create(self, alert):
        covering = getattr(alert, "covering", None)
        if covering is None:
            covering = actions_matching([(alert.service, alert.code)])[alert.service, alert.code]
        if covering:
            # The changelist is one POST form (with its CSRF token): `formaction` sends
            # it to the re-process view, so this button is one click.
            return format_html(
                '{} <button type="submit" class="button" formaction="{}">{}</button>',
                _("Covered by an action."),
                reverse("admin:incidents_triagealert_reprocess", args=[alert.pk]),
                _("Re-process recent triggers"),
            )
        query = urlencode({"service": alert.service, "code": alert.code})
        url = f"{reverse('admin:actions_action_add')}?{query}"
        return format_html('<a href="{}">{}</a>', url, _("Create an action"))

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.reprocess_view))
        return [
            path("<int:pk>/reprocess/", view, name="incidents_triagealert_reprocess"),
            *super().get_urls(),
        ]

    def _reprocess(self, request, alert) -> None:
        result = services.triage_reprocess(service=alert.service, code=alert.code)
        if not result["actions"]:
            messages.warning(
                request,
                _("No action covers %(service)s/%(code)s yet: create one first.")
                % {"service": alert.service, "code": alert.code},
            )
            return
        messages.success(
            request,
            _(
                "%(service)s/%(code)s: %(triggers)s recent unmatched trigger(s) "
                "re-processed, %(occurrences)s occurrence(s) counted into %(actions)s action(s)."
            )
            % {"service": alert.service, "code": alert.code, **result},
        )

    def has_reprocess_permission(self, request):
        return may(request.user, "triage_reprocess")

    def reprocess_view(self, request, pk):
        if not self.has_reprocess_permission(request):
            raise PermissionDenied
        self._reprocess(request, get_object_or_404(TriageAlert, pk=pk))
        return redirect("admin:incidents_triagealert_changelist")

    @admin.action(
        description=_("Re-process recent unmatched triggers of the selected codes"),
        permissions=["reprocess"],
    )
    def reprocess(self, request, queryset):
        for alert in queryset:
            self._reprocess(request, alert)


# Change events and heartbeat checks (their own module).
from incidents import admin_signals  # noqa: E402, F401
