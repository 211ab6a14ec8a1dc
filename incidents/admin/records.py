"""Admin pages of what cxhub records around incidents: maintenance, triggers, reports, triage."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from actions.models import Service
from actions.selectors import actions_matching
from cxhub import audit
from cxhub.paginators import RecentFirstPaginator
from cxhub.rules import may
from incidents import services
from incidents.admin.base import ReadOnlyAdmin
from incidents.models import (
    MaintenanceWindow,
    Report,
    TriageAlert,
    Trigger,
)


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = [
        "reason",
        "service",
        "action",
        "starts_at",
        "ends_at",
        "status_visible",
        "recurrence",
        "created_by",
        "state",
    ]
    list_select_related = ["service", "action", "recurrence"]
    list_filter = ["service", "action", "status_visible"]
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


class ConfiguredServiceFilter(admin.SimpleListFilter):
    """Filter triggers by a service actions know (a DISTINCT over a year of triggers was not)."""

    title = _("service")
    parameter_name = "service"

    def lookups(self, request, model_admin):
        return [
            (slug, slug) for slug in Service.objects.order_by("slug").values_list("slug", flat=True)
        ]

    def queryset(self, request, queryset):
        return queryset.filter(service=self.value()) if self.value() else queryset


# Triggers and reports grow with every request (a year is millions of rows): no
# date_hierarchy (its year and month links are a DISTINCT over the whole table on every
# view; the received_at filter costs nothing) and an estimated count unfiltered.
@admin.register(Trigger)
class TriggerAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "service", "code", "status", "matched", "incident_link"]
    list_filter = ["matched", "status", ConfiguredServiceFilter, "received_at"]
    search_fields = ["service", "code"]
    list_select_related = ["incident__action"]
    show_full_result_count = False
    paginator = RecentFirstPaginator

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
    show_full_result_count = False
    paginator = RecentFirstPaginator


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
