"""Reports: MTTA/MTTR per action and team, incidents per service and week, CSV, period."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from notifications.models import Delivery
from support import reports
from support.report_charts import column_chart, hbar_chart
from support.tests.test_views import post_triggers

pytestmark = pytest.mark.usefixtures("eager_celery")


@pytest.fixture
def answered(scenario, ingest_client, django_capture_on_commit_callbacks):
    """An incident paged to N1, acknowledged 4 minutes after opening, resolved at 10."""
    with django_capture_on_commit_callbacks(execute=True):
        post_triggers(ingest_client, 11)
    incident = Incident.objects.get()
    opened = incident.opened_at
    Delivery.objects.filter(incident=incident, purpose="page").update(
        created_at=opened + timedelta(minutes=1)
    )
    Incident.objects.filter(pk=incident.pk).update(
        status=Incident.Status.RESOLVED,
        acknowledged_at=opened + timedelta(minutes=4),
        acknowledged_by="sam",
        resolved_at=opened + timedelta(minutes=10),
        resolved_by="sam",
    )
    return Incident.objects.get()


def test_an_acknowledgement_that_timed_out_still_counts_and_stays_on_the_chart(answered):
    from incidents.history.timeline import event_add
    from incidents.models import TimelineEvent
    from support.selectors import incident_chart

    opened = answered.opened_at
    # Acknowledged at 4 min, timed out at 34 min (the field is cleared), resolved at 40.
    event_add(answered, TimelineEvent.Kind.ACKNOWLEDGED, at=opened + timedelta(minutes=4))
    event_add(answered, TimelineEvent.Kind.ACK_EXPIRED, at=opened + timedelta(minutes=34))
    Incident.objects.filter(pk=answered.pk).update(acknowledged_at=None, acknowledged_by="")
    figures = reports.report(reports.period_of("7d", today=timezone.localdate()))
    [action] = figures["by_action"]
    assert (action.acknowledged, action.mtta) == (1, timedelta(minutes=4))
    chart = incident_chart(Incident.objects.get())
    kinds = {m.kind for m in chart.markers}
    assert {"acknowledged", "ack_expired", "resolved"} <= kinds


def test_period_presets():
    wednesday = date(2026, 12, 2)
    assert reports.period_of("last_week", today=wednesday) == reports.Period(
        date(2026, 11, 23), date(2026, 11, 29)
    )
    assert reports.period_of("this_week", today=wednesday).start == date(2026, 11, 30)
    assert reports.period_of("7d", today=wednesday).start == date(2026, 11, 26)
    assert reports.period_of("bogus", today=wednesday) == reports.period_of("7d", today=wednesday)


def test_mtta_counts_from_the_teams_first_page_and_mttr_from_the_opening(answered):
    figures = reports.report(reports.period_of("7d", today=timezone.localdate()))
    [action] = figures["by_action"]
    assert (action.incidents, action.mtta, action.mttr) == (
        1,
        timedelta(minutes=4),
        timedelta(minutes=10),
    )
    [team] = figures["by_team"]
    assert team.label == "Analista N1"
    assert team.mtta == timedelta(minutes=3)
    assert team.mttr == timedelta(minutes=10)
    assert sum(figures["per_service"]["services"]["login"]) == 1
    assert sum(figures["sent"]["pushes"]) == 3
    assert sum(figures["sent"]["pages"]) == 1


def test_reports_page_draws_charts_and_tables(client, support_user, answered):
    client.force_login(support_user)
    page = client.get(reverse("support:reports"), {"preset": "7d"}).content.decode()
    assert "Analista N1" in page
    assert "3 min 00 s" in page  # MTTA of N1
    assert "10 min 00 s" in page  # MTTR
    assert page.count("<svg") == 6
    assert "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org", ""
    )


def test_reports_export_csv(client, cx_user, answered):
    client.force_login(cx_user)
    response = client.get(reverse("support:reports"), {"preset": "7d", "export": "teams"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "team",
        "incidents",
        "acknowledged",
        "resolved",
        "mtta_seconds",
        "mttr_seconds",
    ]
    assert rows[1] == ["Analista N1", "1", "1", "1", "180", "600"]
    services = client.get(reverse("support:reports"), {"preset": "7d", "export": "services"})
    assert "login,1" in services.content.decode()


def test_a_custom_period_ending_before_it_starts_names_the_field(client, support_user, db):
    client.force_login(support_user)
    page = client.get(
        reverse("support:reports"), {"since": "2026-11-10", "until": "2026-11-01"}
    ).content.decode()
    assert "The period must end on or after its first day." in page


def test_the_last_seven_days_are_the_default_period_so_today_shows(client, support_user, db):
    client.force_login(support_user)
    response = client.get(reverse("support:reports"))
    expected = reports.period_of("7d", today=timezone.localdate())
    assert expected.end == timezone.localdate()
    assert response.context["period"] == expected


def test_charts_scale_to_the_largest_value():
    chart = hbar_chart([("a", 60, "1 min"), ("b", 30, "30 s"), ("c", None, "–")])
    widths = [b.width for b in chart.bars]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    columns = column_chart(["w1", "w2"], {"login": [2, 0], "pix": [1, 1]})
    assert columns.peak == 3
    tallest = sum(s.height for s in columns.segments if s.x == columns.segments[0].x)
    assert round(tallest, 2) == columns.plot_height
