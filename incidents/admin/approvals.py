"""The four-eyes screen: a held mass push with its preview, audience and incident."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from incidents.lifecycle.approvals import ApprovalRefused, approval_refusal, push_decide
from incidents.models import PushApproval
from incidents.outreach.pushes import push_texts


@admin.register(PushApproval)
class PushApprovalAdmin(admin.ModelAdmin):
    list_display = [
        "incident",
        "status",
        "customers",
        "devices",
        "threshold",
        "requested_at",
        "expires_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status"]
    list_select_related = ["incident__action"]
    readonly_fields = [
        "incident_link",
        "status",
        "audience",
        "threshold",
        "preview",
        "set_up_by",
        "requested_at",
        "expires_at",
        "decided_by",
        "decided_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # decided with the buttons below, never edited

    @admin.display(description=_("Incident"))
    def incident_link(self, approval):
        incident = approval.incident
        return format_html(
            '<a href="{}">{}</a> · {} · {}',
            reverse("admin:incidents_incident_change", args=[incident.pk]),
            incident,
            incident.get_status_display(),
            _("%(n)s occurrence(s)") % {"n": incident.occurrences},
        )

    @admin.display(description=_("Audience"))
    def audience(self, approval):
        return _("%(customers)s customer(s), %(devices)s device(s)") % {
            "customers": approval.customers,
            "devices": approval.devices,
        }

    @admin.display(description=_("Preview per language"))
    def preview(self, approval):
        texts = push_texts(approval.incident, "outage")
        rows = [(_("default"), texts.pop("default", ""))] + sorted(texts.items())
        return format_html(
            "<table>{}</table>", format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", rows)
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        approval = self.get_object(request, object_id) if object_id else None
        extra_context = dict(extra_context or {})
        if approval is not None and approval.status == PushApproval.Status.PENDING:
            refusal = approval_refusal(approval, request.user)
            extra_context.update(can_decide=not refusal, decide_refusal=refusal)
            if request.method == "POST" and ({"_approve", "_reject"} & set(request.POST)):
                return self._decide(request, approval, approve="_approve" in request.POST)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _decide(self, request, approval, *, approve: bool):
        try:
            batches = push_decide(approval.pk, user=request.user, approve=approve)
        except ApprovalRefused as exc:
            messages.error(request, str(exc))
        else:
            if approve:
                messages.success(
                    request,
                    _("Push approved: queued in %(n)s batch(es).") % {"n": batches},
                )
            else:
                messages.warning(request, _("Push rejected: nothing is sent."))
        return redirect("admin:incidents_pushapproval_change", approval.pk)
