import csv

from django import forms
from django.contrib import admin, messages
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cxhub.rules import may
from notifications import services
from notifications.models import (
    Channel,
    Customer,
    Delivery,
    Device,
    PushRecord,
    PushSwitch,
    Tag,
    Team,
)


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
            self.fields["target"].widget.attrs["placeholder"] = _(
                "%(target)s (unchanged if left empty)"
            ) % {"target": self.instance.masked_target}

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
    actions = ["send_test_page"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("channels")

    def has_test_page_permission(self, request):
        return may(request.user, "test_page")

    @admin.action(
        description=_("Send a test page to the selected teams"), permissions=["test_page"]
    )
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

    @admin.display(description=_("Channels"))
    def channel_list(self, team):
        # Apprise URLs carry secrets (webhook paths, passwords): list them masked.
        return ", ".join(f"{c.kind} {c.masked_target}".strip() for c in team.channels.all())


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    fields = ["platform", "token", "enabled", "disabled_at", "disabled_reason"]
    readonly_fields = ["disabled_at", "disabled_reason"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["slug"]
    search_fields = ["slug"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "locale", "created_at", "last_outage_push_at"]
    list_filter = ["locale", "services", "tags"]
    search_fields = ["external_id"]
    filter_horizontal = ["services", "tags"]
    readonly_fields = ["last_outage_push_at"]
    inlines = [DeviceInline]
    # A million customers: no full count for the paginator.
    show_full_result_count = False


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "platform", "enabled", "created_at"]
    list_filter = ["platform", "enabled"]
    search_fields = ["customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    actions = ["send_test_push"]

    def has_test_push_permission(self, request):
        return may(request.user, "test_push")

    @admin.action(
        description=_("Send a test push to the selected device"), permissions=["test_push"]
    )
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
    list_display = [
        "created_at",
        "purpose",
        "tier_level",
        "team",
        "provider",
        "size",
        "status",
        "attempts",
        "sent_at",
    ]
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


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


LEDGER_COLUMNS = [
    ("incident_id", "incident"),
    ("incident__action__code", "action"),
    ("customer_ref", "customer"),
    ("device_id", "device"),
    ("token_tail", "token_tail"),
    ("platform", "platform"),
    ("locale", "locale"),
    ("purpose", "purpose"),
    ("message", "message"),
    ("provider", "provider"),
    ("status", "status"),
    ("error", "error"),
    ("created_at", "queued_at"),
    ("sent_at", "sent_at"),
]


def ledger_csv(queryset):
    """Yield the ledger rows of `queryset` as CSV lines, streamed from the database."""
    writer = csv.writer(_Echo())
    yield writer.writerow([label for _, label in LEDGER_COLUMNS])
    rows = queryset.order_by("created_at", "id").values_list(*[f for f, _ in LEDGER_COLUMNS])
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow(
            [value.isoformat() if hasattr(value, "isoformat") else value for value in row]
        )


@admin.register(PushRecord)
class PushRecordAdmin(admin.ModelAdmin):
    """The push ledger for compliance: read-only, exportable as CSV."""

    list_display = [
        "created_at",
        "incident",
        "customer_ref",
        "token_tail",
        "purpose",
        "provider",
        "status",
        "sent_at",
    ]
    list_filter = ["purpose", "status", "provider", "created_at"]
    search_fields = ["customer_ref", "=incident__id"]
    list_select_related = ["incident__action"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["export_csv"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.action(description=_("Export the selected pushes as CSV"))
    def export_csv(self, request, queryset):
        # "Select all" passes the whole filtered ledger; it is streamed, never loaded.
        response = StreamingHttpResponse(ledger_csv(queryset), content_type="text/csv")
        name = f"cxhub-push-ledger-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


@admin.register(PushSwitch)
class PushSwitchAdmin(admin.ModelAdmin):
    """The global kill switch: pausing cancels every queued customer push at once."""

    list_display = ["__str__", "changed_by", "changed_at"]
    fields = ["paused", "changed_by", "changed_at"]
    readonly_fields = ["changed_by", "changed_at"]

    def has_add_permission(self, request):
        return may(request.user, "kill_switch") and not PushSwitch.objects.exists()

    def has_change_permission(self, request, obj=None):
        return may(request.user, "kill_switch")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from notifications.services import push_switch_set

        cancelled = push_switch_set(paused=obj.paused, by=request.user.get_username())
        obj.pk = 1
        if obj.paused:
            messages.warning(
                request, _("Pushes paused; %(n)s queued batch(es) cancelled.") % {"n": cancelled}
            )
        else:
            messages.success(request, _("Pushes allowed again."))
