"""The status page and its feed read in a number of queries that does not grow with history."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident, MaintenanceWindow
from statuspage.feeds import feed_xml
from statuspage.models import StatusUpdate
from statuspage.views import page_html


def history(visible, count: int, *, start: int = 0):
    """Add `count` resolved customer-visible incidents, each with two updates, and windows."""
    now = timezone.now()
    for n in range(start, start + count):
        opened = now - timedelta(days=1 + n % 80, hours=n % 7)
        incident = Incident.objects.create(
            action=visible["action"],
            status=Incident.Status.RESOLVED,
            occurrences=5,
            opened_at=opened,
            last_occurrence_at=opened,
            resolved_at=opened + timedelta(minutes=30),
            policy={},
        )
        for stage in ("identified", "resolved"):
            StatusUpdate.objects.create(
                incident=incident,
                stage=stage,
                text_pt="Texto.",
                text_en="Text.",
                posted_by="ana",
                posted_at=opened + timedelta(minutes=5),
            )
        MaintenanceWindow.objects.create(
            service=visible["login"],
            starts_at=now + timedelta(days=1 + n),
            ends_at=now + timedelta(days=1 + n, hours=1),
            reason="db upgrade",
            status_visible=True,
        )


def queries_of(build) -> int:
    with CaptureQueriesContext(connection) as captured:
        build()
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "build", [lambda: feed_xml("en"), lambda: page_html("en")], ids=["feed", "page"]
)
def test_the_query_count_does_not_grow_with_incidents(visible, build):
    history(visible, 2)
    few = queries_of(build)
    history(visible, 30, start=2)
    assert queries_of(build) == few


def test_the_feed_reads_in_a_fixed_number_of_queries(visible, django_assert_num_queries):
    history(visible, 12)
    # incidents, their updates, the windows, services of the actions, services and names.
    with django_assert_num_queries(6):
        xml = feed_xml("en")
    assert xml.count(b"<entry>") == 12 * 3 + 12
