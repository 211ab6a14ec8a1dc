"""Admin of four-eyes approvals: review a waiting mass push, approve or reject it."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from notifications.audiences import text_for
from notifications.models import PushApproval


@admin.register(PushApproval)
class PushApprovalAdmin(admin.ModelAdmin):
    list_display = [
        "incident_link",
        "customers",
        "status",
        "requested_at",
        "timeout_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status"]
    list_select_related = ["incident__action"]
    change_form_template = "admin/notifications/pushapproval/change_form.html"
    fields = [
        "incident_link",
        "status",
        "customers",
        "devices",
        "threshold",
        "preview",
        "requested_at",
        "timeout_at",
        "timeout_sends",
        "decided_by",
        "decided_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Incident"))
    def incident_link(self, approval):
        incident = approval.incident
        return format_html(
            '<a href="{}">{}</a> · {}',
            reverse("admin:incidents_incident_change", args=[incident.pk]),
            incident,
            incident.action.name,
        )

    @admin.display(description=_("Preview"))
    def preview(self, approval):
        from notifications.services import push_variables

        incident = approval.incident
        texts = incident.policy.get("texts") or {}
        variables = push_variables(incident)
        locales = ["pt-BR", "en"] + sorted(
            set(texts.get("outage", {})) - {"default", "pt-BR", "en"}
        )
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td></tr>",
                ((locale, text_for(texts, "outage", locale, variables)) for locale in locales),
            ),
        )

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["can_decide"] = bool(
            obj and obj.is_pending and self.has_change_permission(request, obj)
        )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def response_change(self, request, obj):
        from incidents.approvals import ApprovalRefused, push_approval_decide

        decision = {"_approve": True, "_reject": False}
        chosen = [value for key, value in decision.items() if key in request.POST]
        if chosen:
            try:
                approval = push_approval_decide(
                    obj.pk, approve=chosen[0], by=request.user.get_username()
                )
            except ApprovalRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    _("%(status)s: %(incident)s")
                    % {"status": approval.get_status_display(), "incident": obj.incident},
                )
        return HttpResponseRedirect(request.path)
