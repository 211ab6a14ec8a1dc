"""Admin lists of big tables count unfiltered rows from PostgreSQL's statistics."""

import re

import pytest
from django.db import connection

from cxhub import paginators
from cxhub.paginators import EstimatedCountPaginator
from notifications.models import Team

pytestmark = pytest.mark.django_db


def test_filtered_or_small_lists_are_counted_exactly(django_assert_num_queries):
    Team.objects.bulk_create(Team(slug=f"t{n}", name=f"T{n}") for n in range(3))
    assert EstimatedCountPaginator(Team.objects.all(), 10).count == 3
    assert EstimatedCountPaginator(Team.objects.filter(slug="t1"), 10).count == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_class statistics")
def test_an_unfiltered_big_table_is_not_counted(monkeypatch, django_assert_num_queries):
    Team.objects.bulk_create(Team(slug=f"t{n}", name=f"T{n}") for n in range(3))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_team")
    monkeypatch.setattr(paginators, "ESTIMATE_ABOVE", 1)
    with django_assert_num_queries(1) as captured:
        assert EstimatedCountPaginator(Team.objects.all(), 10).count == 3
    assert "COUNT" not in captured.captured_queries[0]["sql"].upper()


def test_a_newest_first_page_is_the_same_page_read_from_the_last_days():
    from datetime import timedelta

    from django.core.paginator import Paginator
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from incidents.counting.partitions import partitions_maintain
    from incidents.models import Report, Trigger

    now = timezone.now()
    # 30 triggers in the last day, 10 a week ago, 10 two months ago.
    times = [now - timedelta(hours=n / 2) for n in range(30)]
    times += [now - timedelta(days=6, hours=n) for n in range(10)]
    times += [now - timedelta(days=60, hours=n) for n in range(10)]
    for at in times:
        report = Report.objects.create(received_at=at, payload={}, processed_at=at)
        Trigger.objects.create(
            report=report, service="login", code="503", received_at=at, matched=True
        )
    if connection.vendor == "postgresql":
        partitions_maintain(now=now)
    listed = Trigger.objects.order_by("-received_at", "-id")
    # Pages 1-3 lie in the last day, page 4 in the last week, page 5 reads every day.
    everything = now - min(times) + timedelta(days=1)
    for number, since in [(1, 1), (3, 1), (4, 7), (5, everything.days)]:
        expected = list(Paginator(listed, 10).page(number).object_list)
        with CaptureQueriesContext(connection) as captured:
            page = list(paginators.RecentFirstPaginator(listed, 10).page(number).object_list)
        assert page == expected
        if connection.vendor == "postgresql":
            read = captured.captured_queries[-1]["sql"]
            oldest = max(now - timedelta(days=since), min(times)).date()
            assert min(days_planned(read)) == f"incidents_trigger_p{oldest:%Y%m%d}"


def days_planned(sql) -> set[str]:
    """Return the day partitions of the trigger table that PostgreSQL plans to read."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return set(re.findall(r" on (incidents_trigger_p\d{8})", plan))
