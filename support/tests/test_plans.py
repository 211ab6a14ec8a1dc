"""The history indexes serve the queries named in their comments (PostgreSQL plans)."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from notifications.models import Delivery, PushRecord
from support.models import IncidentSummary

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans"),
]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # The test tables are tiny: make the planner show whether the index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_search_by_customer_uses_the_customer_index():
    assert "push_record_customer" in plan(
        PushRecord.objects.filter(customer_ref="c-1").values("incident_id")
    )


def test_sends_per_day_are_counted_from_the_day_index_alone():
    now = timezone.now()
    queryset = (
        PushRecord.objects.filter(
            status="sent", purpose="outage", sent_at__gte=now - timedelta(days=1), sent_at__lt=now
        )
        .annotate(day=TruncDate("sent_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("*"))
    )
    assert "Index Only Scan using push_record_sent_day" in plan(queryset)


def test_the_lists_reach_is_read_from_the_summaries_primary_key():
    assert "support_incidentsummary_pkey" in plan(
        IncidentSummary.objects.filter(incident_id__in=[uuid.uuid4(), uuid.uuid4()]).defer(
            "moments"
        )
    )


def test_pages_sent_per_day_are_counted_from_their_index():
    now = timezone.now()
    queryset = (
        Delivery.objects.filter(
            purpose="page", status="sent", sent_at__gte=now - timedelta(days=1), sent_at__lt=now
        )
        .annotate(day=TruncDate("sent_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("*"))
    )
    assert "Index Only Scan using delivery_page_sent_day" in plan(queryset)
