import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cxhub import audit
from cxhub.rules import may
from cxhub.timefmt import local_label
from incidents import selectors, services
from incidents.admin.base import ReadOnlyAdmin
from incidents.history import texts
from incidents.models import (
    Incident,
    Integration,
    TimelineEvent,
    mappings,
)
from incidents.models.integrations import integration_url
from incidents.models.policy import Policy
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
        return json.dumps(mappings.DEFAULT_MAPPINGS.get(integration.kind, {}), indent=1)

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
        return texts.event_text(event)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = [
        "purpose",
        "tier_level",
        "team",
        "channel",
        "person",
        "contact_method",
        "due_at",
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
    readonly_fields = ["frozen_policy", "oncall_now", "push_progress", "payloads"]
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

    @admin.display(description=_("On call now, per tier"))
    def oncall_now(self, incident):
        from oncall.selectors import oncall_now_by_schedule, person_name

        tiers = [
            t
            for t in Policy.from_json(incident.policy).tiers
            if t.schedule_id and t.target != "team"
        ]
        if not tiers:
            return _("No tier pages a schedule.")
        people = oncall_now_by_schedule([t.schedule_id for t in tiers], timezone.now())
        return format_html_join(
            "",
            "<div>{} {}: {}</div>",
            (
                (
                    _("Tier"),
                    f"{t.level} ({t.name})",
                    ", ".join(person_name(p) for p in people.get(t.schedule_id, []))
                    or _("nobody: the team's channels are paged instead"),
                )
                for t in tiers
            ),
        )

    @admin.display(description=_("Escalation policy (frozen when the incident opened)"))
    def frozen_policy(self, incident):
        policy = Policy.from_json(incident.policy)
        tiers = format_html_join(
            "",
            _("<li>Tier {}: {} — at {} occurrences / after {} minutes</li>"),
            ((t.level, t.name, t.occurrences or "-", t.minutes or "-") for t in policy.tiers),
        )
        timers = ", ".join(
            f"{label} {minutes} min"
            for minutes, label in (
                (policy.quiet_minutes, _("quiet period")),
                (policy.flap_minutes, _("flap window")),
                (policy.repeat_minutes, _("repeat every")),
                (policy.ack_timeout_minutes, _("acknowledgement timeout")),
            )
            if minutes
        )
        return format_html(
            _(
                "<p>These tiers were frozen when the incident opened: editing the action does "
                "not re-page or skip anyone here.</p><ul>{}</ul><p>Push at {} occurrences. {}</p>"
            ),
            tiers,
            policy.push_threshold or "-",
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
