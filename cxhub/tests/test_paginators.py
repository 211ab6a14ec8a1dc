"""Admin lists of big tables count unfiltered rows from PostgreSQL's statistics."""

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
