from django.contrib import admin

from notifications.models import Channel, Customer, Delivery, Device, Team


class ChannelInline(admin.TabularInline):
    model = Channel
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "channel_list"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ChannelInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("channels")

    @admin.display(description="Channels")
    def channel_list(self, team):
        # Apprise URLs carry secrets (webhook paths, passwords): list them masked.
        return ", ".join(f"{c.kind} {c.masked_target}".strip() for c in team.channels.all())


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "locale", "created_at"]
    list_filter = ["locale", "services"]
    search_fields = ["external_id"]
    filter_horizontal = ["services"]
    inlines = [DeviceInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "purpose", "tier_level", "team", "status", "attempts", "sent_at"]
    list_filter = ["purpose", "status", "team"]
    search_fields = ["key", "title"]
    list_select_related = ["team"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]
