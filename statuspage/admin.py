"""Admin for the status page: subscribers (webhooks are added here), templates, notices;
the Open Finance endpoints a service carries (an inline on the service's admin page)."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from statuspage.models import (
    Notice,
    NoticeRecord,
    OpenFinanceEndpoint,
    StatusUpdate,
    Subscriber,
    UpdateTemplate,
)
from statuspage.notices import NoticeRefused, notice_decide


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "language", "whole_page", "confirmed_at", "unsubscribed_at"]
    list_filter = ["kind", "language", "whole_page"]
    search_fields = ["email", "name", "url"]
    filter_horizontal = ["services"]
    readonly_fields = ["created_at"]
    fields = [
        "kind",
        "name",
        "url",
        "secret",
        "email",
        "language",
        "time_zone",
        "whole_page",
        "services",
        "confirmed_at",
        "unsubscribed_at",
        "created_at",
    ]

    def get_changeform_initial_data(self, request):
        # CX staff add webhooks here; e-mail subscribers confirm by link.
        return {"kind": Subscriber.Kind.WEBHOOK}

    def save_model(self, request, obj, form, change):
        from cxhub import outbound

        if obj.kind == Subscriber.Kind.WEBHOOK:
            try:
                outbound.check_url(obj.url)
            except (outbound.OutboundRefused, ValueError) as exc:
                messages.warning(request, str(exc))
            if not change and obj.confirmed_at is None:
                from django.utils import timezone

                obj.confirmed_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(UpdateTemplate)
class UpdateTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "stage"]
    list_filter = ["stage"]


@admin.register(StatusUpdate)
class StatusUpdateAdmin(admin.ModelAdmin):
    list_display = ["incident", "stage", "posted_by", "posted_at"]
    list_filter = ["stage"]
    readonly_fields = ["incident", "stage", "text_pt", "text_en", "posted_by", "posted_at"]

    def has_add_permission(self, request):
        return False  # posted from the support incident page

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "key",
        "status",
        "audience",
        "threshold",
        "requested_by",
        "decided_by",
        "created_at",
        "fanned_out_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["key"]
    readonly_fields = [
        "kind",
        "key",
        "status",
        "audience",
        "threshold",
        "preview",
        "requested_by",
        "decided_by",
        "decided_at",
        "created_at",
        "fanned_out_at",
        "progress",
    ]
    fields = readonly_fields
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Preview per language"))
    def preview(self, notice):
        rows = [
            (language, text.get("subject", ""), text.get("body", ""))
            for language, text in sorted(notice.texts.items())
        ]
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><td>{}</td><td><strong>{}</strong><br>{}</td></tr>", rows),
        )

    @admin.display(description=_("Sent / failed / sending"))
    def progress(self, notice):
        records = NoticeRecord.objects.filter(notice=notice)
        return " / ".join(
            str(records.filter(status=status).count())
            for status in (
                NoticeRecord.Status.SENT,
                NoticeRecord.Status.FAILED,
                NoticeRecord.Status.PENDING,
            )
        )

    def _decide(self, request, queryset, *, approve: bool):
        for notice in queryset.filter(status=Notice.Status.HELD):
            try:
                notice_decide(notice.pk, user=request.user, approve=approve)
            except NoticeRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    (_("Approved: %(key)s is being sent.") if approve else _("Rejected: %(key)s."))
                    % {"key": notice.key},
                )

    @admin.action(description=_("Approve and send the selected held notices"))
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject the selected held notices: send nothing"))
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)


@admin.register(NoticeRecord)
class NoticeRecordAdmin(admin.ModelAdmin):
    list_display = ["notice", "subscriber", "channel", "language", "status", "sent_at"]
    list_filter = ["status", "channel", "language"]
    list_select_related = ["notice", "subscriber"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OpenFinanceEndpointInline(admin.TabularInline):
    model = OpenFinanceEndpoint
    extra = 0
    fields = ["path"]
