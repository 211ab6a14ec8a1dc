from django import forms
from django.contrib import admin

from notifications.models import Channel, Customer, Delivery, Device, Team


class ChannelForm(forms.ModelForm):
    """Edit a channel without ever sending its stored target (an Apprise URL holds secrets).

    The field shows empty with the masked value as a hint; left empty, the stored
    target is kept.
    """

    class Meta:
        model = Channel
        fields = ["kind", "target", "enabled"]
        widgets = {"target": forms.PasswordInput(render_value=False, attrs={"size": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.target:
            self.fields["target"].widget.attrs["placeholder"] = (
                f"{self.instance.masked_target} (unchanged if left empty)"
            )

    def clean_target(self):
        value = self.cleaned_data["target"]
        if not value and self.instance.pk:
            return self.instance.target
        return value


class ChannelInline(admin.TabularInline):
    model = Channel
    form = ChannelForm
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
