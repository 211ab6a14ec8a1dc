"""Server-rendered pages of the incident lifecycle: the one-click acknowledge link."""

from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cxhub.rules import may
from incidents import services
from incidents.models import Incident
from incidents.outreach import links

NOTE_MAX_LENGTH = 1000


@require_http_methods(["GET", "POST"])
def acknowledge_link(request, pk, token):
    """Confirm (GET) and acknowledge (POST) the incident a page's signed link names.

    The token names one incident and expires; it is no use for any other
    incident, and it never acknowledges by itself: a staff member must be logged
    in, hold the acknowledge permission (as on every other path) and confirm, so a
    link preview or a forwarded message acknowledges nothing.
    """
    try:
        named = links.incident_id_from(token)
    except signing.SignatureExpired:
        return render(request, "incidents/acknowledge.html", {"invalid": "expired"}, status=410)
    except signing.BadSignature:
        named = None
    if named != str(pk):
        return render(request, "incidents/acknowledge.html", {"invalid": "invalid"}, status=404)
    if not (request.user.is_active and request.user.is_staff):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    # The same rule as the API, the support page and the admin action.
    if not may(request.user, "acknowledge"):
        raise PermissionDenied
    incident = get_object_or_404(Incident.objects.select_related("action"), pk=pk)
    acknowledged = None
    if request.method == "POST":
        acknowledged = services.incident_acknowledge(
            incident_id=incident.pk,
            by=request.user.get_username(),
            note=request.POST.get("note", "").strip()[:NOTE_MAX_LENGTH],
        )
        incident.refresh_from_db()
    return render(
        request,
        "incidents/acknowledge.html",
        {
            "incident": incident,
            "acknowledged": acknowledged,
            "admin_url": reverse("admin:incidents_incident_change", args=[incident.pk]),
        },
    )
