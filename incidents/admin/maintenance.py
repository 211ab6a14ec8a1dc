"""Admin page of recurring maintenance: the rule, and its next occurrences."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from cxhub.timefmt import local_label
from incidents.lifecycle.recurrence import recurrence_delete, recurrence_saved
from incidents.models import MaintenanceWindow, RecurringMaintenance


@admin.register(RecurringMaintenance)
class RecurringMaintenanceAdmin(admin.ModelAdmin):
    list_display = ["reason", "service", "action", "rule", "start_time", "duration_minutes"]
    list_select_related = ["service", "action"]
    search_fields = ["reason"]
    autocomplete_fields = ["service", "action"]
    readonly_fields = ["next_occurrences", "created_by", "materialized_until"]

    @admin.display(description=_("Next occurrences"))
    def next_occurrences(self, rule):
        if rule.pk is None:
            return "-"
        windows = MaintenanceWindow.objects.filter(
            recurrence=rule, ends_at__gt=timezone.now()
        ).order_by("starts_at")[:5]
        return (
            format_html_join(
                ", ",
                "{}",
                ((f"{local_label(w.starts_at, '%Y-%m-%d %H:%M')}",) for w in windows),
            )
            or "-"
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        recurrence_saved(obj)

    def delete_model(self, request, obj):
        recurrence_delete(obj)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            recurrence_delete(rule)
