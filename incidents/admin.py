from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from incidents import services
from incidents.models import Incident, Integration, Report, TimelineEvent, TriageAlert, Trigger
from notifications.models import Delivery


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
    list_display = ["name", "kind", "enabled", "token_hint", "last_received_at", "trigger_count"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]
    readonly_fields = [
        "token_hint",
        "created_at",
        "last_received_at",
        "trigger_count",
        "last_error",
    ]
    actions = ["rotate_token"]

    @admin.display(description="Token")
    def token_hint(self, integration):
        return f"{integration.token_prefix}…" if integration.token_prefix else "-"

    def save_model(self, request, obj, form, change):
        token = None if change else obj.set_new_token()
        super().save_model(request, obj, form, change)
        if token:
            self._show_token(request, obj, token)

    @admin.action(description="Rotate the token of the selected integrations")
    def rotate_token(self, request, queryset):
        for integration in queryset:
            token = integration.set_new_token()
            integration.save(update_fields=["token_hash", "token_prefix"])
            self._show_token(request, integration, token)

    def _show_token(self, request, integration, token):
        messages.warning(
            request,
            f"Token for {integration.name}, shown only now: {token} "
            f"(send it as 'Authorization: Bearer {token}' to /api/v1/triggers)",
        )


class TimelineInline(admin.TabularInline):
    model = TimelineEvent
    fields = ["at", "kind", "actor", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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
        "push_queued_at",
        "resolved_at",
    ]
    list_filter = ["status", "action", "opened_at"]
    search_fields = ["action__code", "action__name", "action__rules__service__slug"]
    date_hierarchy = "opened_at"
    list_select_related = ["action"]
    inlines = [TimelineInline, DeliveryInline]
    actions = ["acknowledge", "resolve"]
    readonly_fields = ["push_progress"]

    @admin.display(description="Customer push progress (devices)")
    def push_progress(self, incident):
        from notifications.selectors import push_progress

        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in push_progress(incident).items())

    @admin.action(description="Acknowledge the selected incidents (stops tier pages)")
    def acknowledge(self, request, queryset):
        done = sum(
            services.incident_acknowledge(incident_id=pk, by=request.user.get_username())
            for pk in queryset.values_list("pk", flat=True)
        )
        messages.success(request, f"{done} incident(s) acknowledged.")

    @admin.action(description="Resolve the selected incidents (sends the all-clear)")
    def resolve(self, request, queryset):
        done = sum(
            services.incident_resolve(incident_id=pk, by=request.user.get_username())
            for pk in queryset.values_list("pk", flat=True)
        )
        messages.success(request, f"{done} incident(s) resolved.")


@admin.register(Trigger)
class TriggerAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "service", "code", "status", "matched", "incident_link"]
    list_filter = ["matched", "status", "service", "received_at"]
    search_fields = ["service", "code"]
    date_hierarchy = "received_at"
    list_select_related = ["incident__action"]

    @admin.display(description="Incident")
    def incident_link(self, trigger):
        if trigger.incident_id is None:
            return "-"
        url = reverse("admin:incidents_incident_change", args=[trigger.incident_id])
        return format_html('<a href="{}">{}</a>', url, trigger.incident)


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "integration", "processed_at"]
    list_filter = ["integration", "received_at"]
    date_hierarchy = "received_at"


@admin.register(TriageAlert)
class TriageAlertAdmin(ReadOnlyAdmin):
    list_display = ["service", "code", "occurrences", "first_seen_at", "last_seen_at", "create"]
    search_fields = ["service", "code"]

    @admin.display(description="Action")
    def create(self, alert):
        url = reverse("admin:actions_action_add")
        return format_html(
            '<a href="{}?service={}&code={}">Create an action</a>', url, alert.service, alert.code
        )
