"""Admin of change events (read-only) and heartbeat checks (last seen, expected, state)."""

from datetime import timedelta

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from incidents.intake.heartbeats import heartbeat_rule_ensure
from incidents.models import ChangeEvent, HeartbeatCheck
from incidents.models.monitoring import heartbeat_url


@admin.register(ChangeEvent)
class ChangeEventAdmin(admin.ModelAdmin):
    list_display = ["at", "service", "summary", "source", "integration"]
    list_select_related = ["integration"]
    list_filter = ["service"]
    search_fields = ["service", "summary", "source"]
    date_hierarchy = "at"
    readonly_fields = [
        "service",
        "summary",
        "source",
        "at",
        "received_at",
        "integration",
        "links",
        "details",
    ]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(HeartbeatCheck)
class HeartbeatCheckAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "service",
        "action",
        "state",
        "last_seen_at",
        "expected_by",
        "expected_minutes",
        "grace_minutes",
        "integration",
        "enabled",
    ]
    list_filter = ["state", "enabled"]
    search_fields = ["name"]
    readonly_fields = [
        "state",
        "last_seen_at",
        "expected_by",
        "down_since",
        "token_hint",
        "ping_url",
        "created_at",
    ]
    fields = [
        "name",
        "service",
        "action",
        "integration",
        "signal_alertname",
        "expected_minutes",
        "grace_minutes",
        "enabled",
        *readonly_fields,
    ]
    actions = ["rotate_token"]

    @admin.display(description=_("Expected by"))
    def expected_by(self, check):
        if not check.pk:
            return "-"
        since = check.last_seen_at or check.created_at
        return since + timedelta(minutes=check.expected_minutes + check.grace_minutes)

    @admin.display(description=_("Token"))
    def token_hint(self, check):
        return f"{check.token_prefix}…" if check.token_prefix else "-"

    @admin.display(description=_("Ping URL"))
    def ping_url(self, check):
        return f"{heartbeat_url()}<token>" if check.pk else "-"

    def save_model(self, request, obj, form, change):
        token = None if change else obj.set_new_token()
        super().save_model(request, obj, form, change)
        # The chosen action must cover what the check records (service/heartbeat).
        heartbeat_rule_ensure(obj)
        if token:
            self._show_token(request, obj, token)

    @admin.action(
        description=_("Rotate the ping token of the selected checks"), permissions=["change"]
    )
    def rotate_token(self, request, queryset):
        for check in queryset:
            token = check.set_new_token()
            check.save(update_fields=["token_hash", "token_prefix"])
            self._show_token(request, check, token)

    def _show_token(self, request, check, token):
        messages.warning(
            request,
            _("Ping URL for %(name)s, shown only now: %(url)s%(token)s (POST or GET)")
            % {"name": check.name, "url": heartbeat_url(), "token": token},
        )
