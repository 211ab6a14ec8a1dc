from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications import services
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
    actions = ["send_test_page"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("channels")

    @admin.action(description=_("Send a test page to the selected teams"), permissions=["change"])
    def send_test_page(self, request, queryset):
        for team in queryset:
            sent = services.team_send_test_page(team, by=request.user.get_username())
            if sent:
                messages.success(
                    request,
                    ngettext(
                        "Test page queued to %(team)s through %(n)d channel; see Deliveries.",
                        "Test page queued to %(team)s through %(n)d channels; see Deliveries.",
                        sent,
                    )
                    % {"team": team.name, "n": sent},
                )
            else:
                messages.warning(
                    request, _("%(team)s has no enabled channel to page.") % {"team": team.name}
                )

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


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "platform", "enabled", "created_at"]
    list_filter = ["platform", "enabled"]
    search_fields = ["customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    actions = ["send_test_push"]

    @admin.action(description=_("Send a test push to the selected device"), permissions=["change"])
    def send_test_push(self, request, queryset):
        if queryset.count() != 1:
            messages.warning(request, _("Select exactly one device for a test push."))
            return
        device = queryset.get()
        services.device_send_test_push(device, by=request.user.get_username())
        messages.success(
            request,
            _("Test push queued to %(device)s of %(customer)s; see Deliveries.")
            % {"device": device, "customer": device.customer},
        )


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
