"""Reads of incidents for the API and the admin."""

from incidents.models import Report


def incident_reports(incident, *, limit=50):
    """Return the latest reports whose triggers count toward or ended the incident."""
    return list(
        Report.objects.filter(triggers__incident=incident)
        .select_related("integration")
        .distinct()
        .order_by("-received_at")[:limit]
    )
