import csv
import itertools

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from cxhub.admin_filters import values_filter
from cxhub.paginators import EstimatedCountPaginator
from cxhub.rules import may
from notifications import selectors, services
from notifications.forms import ChannelForm
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
from notifications.providers import PUSH_PROVIDER_CHOICES


class ChannelInline(admin.TabularInline):
    model = Channel
    form = ChannelForm
    extra = 0

    def get_fields(self, request, obj=None):
        # A read-only inline would print the stored target in full: view-only roles
        # get the masked one; editors a link to reveal it (logged in the history).
        if not self.has_change_permission(request, obj):
            return ["kind", "masked", "enabled"]
        return ["kind", "target", "reveal", "enabled"]

    def get_readonly_fields(self, request, obj=None):
        if not self.has_change_permission(request, obj):
            return ["kind", "masked", "enabled"]
        return ["reveal"]

    @admin.display(description=_("Target"))
    def masked(self, channel):
        return channel.masked_target

    @admin.display(description=_("Full target"))
    def reveal(self, channel):
        if not channel.pk or not channel.target:
            return "-"
        url = reverse("admin:notifications_channel_reveal", args=[channel.pk])
        return format_html('<a href="{}">{}</a>', url, _("Reveal"))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "channel_list"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ChannelInline]
    actions = ["send_test_page"]
    change_form_template = "admin/notifications/team/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("channels")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/test-page/",
                wrap(require_POST(self.test_page_view)),
                name="notifications_team_test_page",
            ),
            path(
                "channel/<int:pk>/reveal/",
                wrap(self.reveal_view),
                name="notifications_channel_reveal",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["may_test_page"] = obj is not None and self.has_test_page_permission(request)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def has_test_page_permission(self, request):
        return may(request.user, "test_page")

    def test_page_view(self, request, pk):
        if not self.has_test_page_permission(request):
            raise PermissionDenied
        team = get_object_or_404(Team, pk=pk)
        self._test_page(request, team)
        return redirect("admin:notifications_team_change", pk)

    def reveal_view(self, request, pk):
        """Show one channel's full target to an editor, and record that it was shown."""
        if not may(request.user, "reveal_channel_target"):
            raise PermissionDenied
        channel = get_object_or_404(Channel.objects.select_related("team"), pk=pk)
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=[channel.team],
            action_flag=CHANGE,
            change_message=gettext("Revealed the target of channel %(channel)s.")
            % {"channel": channel.pk},
            single_object=True,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Target of %(channel)s") % {"channel": channel},
            "channel": channel,
            "team_url": reverse("admin:notifications_team_change", args=[channel.team_id]),
        }
        response = TemplateResponse(request, "admin/notifications/team/reveal.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(
        description=_("Send a test page to the selected teams"), permissions=["test_page"]
    )
    def send_test_page(self, request, queryset):
        for team in queryset:
            self._test_page(request, team)

    def _test_page(self, request, team):
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


def _customer_locales():
    """Return the languages cxhub speaks, as customers' locales are written (pt-BR)."""
    for code, name in settings.LANGUAGES:
        language, _sep, region = code.partition("-")
        yield (f"{language}-{region.upper()}" if region else language), name


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "locale",
        "time_zone",
        "opt_out_outage",
        "opt_out_all_clear",
        "created_at",
        "last_outage_push_at",
    ]
    list_filter = [
        values_filter("locale", _("locale"), _customer_locales),
        "opt_out_outage",
        "opt_out_all_clear",
        "phone_consent",
        "email_consent",
        "services",
        "tags",
    ]
    search_fields = ["external_id"]
    filter_horizontal = ["services", "tags"]
    readonly_fields = ["last_outage_push_at"]
    fieldsets = [
        (None, {"fields": ["external_id", "locale", "time_zone", "services", "tags"]}),
        (
            _("Fallback contacts"),
            {
                "fields": ["phone", "phone_consent", "email", "email_consent"],
                "description": _(
                    "Used only for the SMS / e-mail fallback, and only while consent is given."
                ),
            },
        ),
        (_("Preferences"), {"fields": ["opt_out_outage", "opt_out_all_clear"]}),
        (None, {"fields": ["last_outage_push_at"]}),
    ]
    inlines = [DeviceInline]
    # A million customers: no full count for the paginator, an estimated one unfiltered.
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_fieldsets(self, request, obj=None):
        """Show a view-only role (Support) masked contacts: whether there is one, not which."""
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj):
            return fieldsets
        masked = {"phone": "phone_masked", "email": "email_masked"}
        return [
            (name, {**options, "fields": [masked.get(f, f) for f in options["fields"]]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not self.has_change_permission(request, obj):
            fields += ["phone_masked", "email_masked"]
        return fields

    @admin.display(description=_("phone"))
    def phone_masked(self, customer):
        return f"…{customer.phone[-2:]}" if customer.phone else "-"

    @admin.display(description=_("e-mail"))
    def email_masked(self, customer):
        return f"…@{customer.email.rpartition('@')[2]}" if customer.email else "-"


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "platform", "enabled", "created_at"]
    list_filter = ["platform", "enabled"]
    search_fields = ["customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    actions = ["send_test_push"]
    # A device per customer: a million rows, counted from the statistics unfiltered.
    show_full_result_count = False
    paginator = EstimatedCountPaginator

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
        if not device.enabled:
            # A disabled device (unregistered, or turned off) gets no push, test or not.
            messages.warning(
                request,
                _("%(device)s is disabled (%(reason)s): no test push sent.")
                % {"device": device, "reason": device.disabled_reason or _("by hand")},
            )
            return
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
        "due_at",
        "quiet_hours",
        "sent_at",
    ]
    list_filter = ["purpose", "status", "quiet_hours", "team"]
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
    ("channel", "channel"),
    ("quiet_hours", "quiet_hours"),
    ("status", "status"),
    ("error", "error"),
    ("created_at", "queued_at"),
    ("sent_at", "sent_at"),
]


# A cell a spreadsheet would run as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """Return `value` for a CSV cell; text a spreadsheet would run as a formula gets a quote.

    Messages and errors come from actions' texts and from providers' answers: an
    `=HYPERLINK(...)` there must reach compliance as text, not as a live formula.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return f"'{value}"
    return value


def ledger_csv(queryset):
    """Yield the ledger rows of `queryset` as CSV lines, streamed from the database."""
    writer = csv.writer(_Echo())
    yield writer.writerow([label for _, label in LEDGER_COLUMNS])
    rows = queryset.order_by("created_at", "id").values_list(*[f for f, _ in LEDGER_COLUMNS])
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow(
            [value.isoformat() if hasattr(value, "isoformat") else csv_cell(value) for value in row]
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
        "quiet_hours",
        "generation",
        "sent_at",
    ]
    list_filter = [
        "purpose",
        "status",
        "channel",
        values_filter(
            "quiet_hours",
            _("quiet hours"),
            lambda: [("", _("daytime")), ("held", _("held")), ("critical", _("critical"))],
        ),
        values_filter("provider", _("provider"), lambda: PUSH_PROVIDER_CHOICES),
        "created_at",
    ]
    search_fields = ["customer_ref", "=incident__id"]
    list_select_related = ["incident__action"]
    # No date_hierarchy: over millions of rows its year and month links are a
    # DISTINCT over the whole ledger on every view; the created_at filter is free.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = ["export_csv"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def changelist_view(self, request, extra_context=None):
        # A held batch has no ledger rows until it is sent: say what waits, and until when.
        extra_context = {
            **(extra_context or {}),
            "held": selectors.held_batches(now=timezone.now()),
        }
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Export the selected pushes as CSV"))
    def export_csv(self, request, queryset):
        # "Select all" passes the whole filtered ledger; it is streamed, never loaded.
        # UTF-8 declared, and a byte-order mark so spreadsheet programs read the accents.
        response = StreamingHttpResponse(
            itertools.chain(["\ufeff"], ledger_csv(queryset)),
            content_type="text/csv; charset=utf-8",
        )
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
