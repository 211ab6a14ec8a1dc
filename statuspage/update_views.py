"""The written-update form on the support incident page, and its POST."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incidents.models import Incident
from statuspage.forms import StatusUpdateForm
from statuspage.models import Notice, StatusUpdate
from statuspage.updates import POST_UPDATE, UpdateRefused, update_post


def status_updates_context(user, incident: Incident) -> dict:
    """Return what the support incident page shows of written updates and their notices."""
    return {
        "status_updates": StatusUpdate.objects.filter(incident=incident).order_by("-posted_at"),
        "status_notices": Notice.objects.filter(incident=incident).order_by("-created_at"),
        "status_update_form": StatusUpdateForm() if user.has_perm(POST_UPDATE) else None,
    }


@require_POST
@login_required
def incident_update_post(request, pk):
    """Post a written update (Support and CX staff) and send it to subscribers."""
    if not request.user.has_perm(POST_UPDATE):
        raise PermissionDenied
    incident = get_object_or_404(Incident.objects.select_related("action"), pk=pk)
    form = StatusUpdateForm(request.POST)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect("support:incident", pk=incident.pk)
    data = form.cleaned_data
    try:
        _update, notice = update_post(
            incident,
            stage=data["stage"],
            text_pt=data["text_pt"],
            text_en=data["text_en"],
            by=request.user.get_username(),
        )
    except UpdateRefused as exc:
        messages.error(request, str(exc))
        return redirect("support:incident", pk=incident.pk)
    if notice is not None and notice.status == Notice.Status.HELD:
        messages.warning(
            request,
            _(
                "Update posted. Its notice to %(n)s subscribers is above the approval threshold: "
                "it waits for a second person (admin → Status notices)."
            )
            % {"n": notice.audience},
        )
    else:
        messages.success(request, _("Update posted and sent to the subscribers."))
    return redirect("support:incident", pk=incident.pk)
